import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { callerOf } from "../http/api-guard.js";
import { badRequest } from "../http/errors.js";
import { PersonService } from "../state/person-service.js";
import type { PersonRecord } from "../state/persons.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { personV2 } from "../state/serialize.js";
import { decodeCursor, encodeCursor, idParams, page, parseTime, personBody } from "./schemas.js";

const MAX_IDS = 100;
const MAX_LIMIT = 500;

const listQuery = z.object({
  ids: z.string().optional(),
  owner_id: z.coerce.number().int().optional(),
  org_id: z.coerce.number().int().optional(),
  updated_since: z.string().optional(),
  updated_until: z.string().optional(),
  sort_by: z.enum(["id", "update_time", "add_time"]).default("id"),
  sort_direction: z.enum(["asc", "desc"]).default("asc"),
  limit: z.coerce.number().int().min(1).default(100),
  cursor: z.string().optional(),
  custom_fields: z.string().optional(),
  include_fields: z.string().optional(),
});

/** Persons v2 (`/api/v2/persons`): list with filters and cursors, get, create, PATCH, DELETE. API writes raise `change_source: "api"`. */
export const personRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  const service = (request: Parameters<typeof callerOf>[0]) => {
    const caller = callerOf(request);
    return new PersonService(state, caller.company, "api", caller.user.id);
  };
  const customSubset = (record: PersonRecord, keys: string | undefined) => {
    const json = personV2(record);
    if (keys === undefined) return json;
    const wanted = new Set(keys.split(",").map((k) => k.trim()));
    json["custom_fields"] = Object.fromEntries(Object.entries(record.custom_fields).filter(([k]) => wanted.has(k)));
    return json;
  };

  app.get("/api/v2/persons", { schema: { querystring: listQuery } }, async (request) => {
    const q = request.query;
    if (q.limit > MAX_LIMIT) throw badRequest(`limit must not exceed ${MAX_LIMIT}`);
    let persons = callerOf(request).company.persons.live();
    if (q.ids !== undefined) {
      const ids = q.ids.split(",").filter((s) => s.trim() !== "").map((s) => Number(s));
      if (ids.length > MAX_IDS) throw badRequest(`ids must not contain more than ${MAX_IDS} values`);
      if (ids.some((id) => !Number.isInteger(id))) throw badRequest("ids must be integers");
      const wanted = new Set(ids);
      persons = persons.filter((p) => wanted.has(p.id));
    }
    if (q.owner_id !== undefined) persons = persons.filter((p) => p.owner_id === q.owner_id);
    if (q.org_id !== undefined) persons = persons.filter((p) => p.org_id === q.org_id);
    // update_time has second precision on the wire; compare what clients can see
    const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;
    if (q.updated_since !== undefined) {
      const since = parseTime(q.updated_since, "updated_since");
      persons = persons.filter((p) => seconds(p.update_time) >= since);
    }
    if (q.updated_until !== undefined) {
      const until = parseTime(q.updated_until, "updated_until");
      persons = persons.filter((p) => seconds(p.update_time) < until);
    }
    const keyOf = (p: PersonRecord) => (q.sort_by === "id" ? p.id : q.sort_by === "update_time" ? seconds(p.update_time) : seconds(p.add_time));
    const sign = q.sort_direction === "asc" ? 1 : -1;
    const compare = (a: [number, number], b: [number, number]) => sign * (a[0] - b[0] || a[1] - b[1]);
    persons.sort((a, b) => compare([keyOf(a), a.id], [keyOf(b), b.id]));
    if (q.cursor !== undefined) {
      const after = decodeCursor(q.cursor);
      persons = persons.filter((p) => compare([keyOf(p), p.id], after) > 0);
    }
    const items = persons.slice(0, q.limit);
    const last = items[items.length - 1];
    const next = persons.length > q.limit && last ? encodeCursor(keyOf(last), last.id) : null;
    return page(items.map((p) => customSubset(p, q.custom_fields)), next);
  });

  app.get("/api/v2/persons/:id", { schema: { params: idParams, querystring: z.object({ custom_fields: z.string().optional() }).passthrough() } }, async (request) => ({
    success: true,
    data: customSubset(service(request).require(request.params.id), request.query.custom_fields),
  }));

  app.post("/api/v2/persons", { schema: { body: personBody } }, async (request) => ({ success: true, data: personV2(service(request).create(request.body)) }));

  app.patch("/api/v2/persons/:id", { schema: { params: idParams, body: personBody } }, async (request) => {
    const persons = service(request);
    return { success: true, data: personV2(persons.update(persons.require(request.params.id), request.body)) };
  });

  app.delete("/api/v2/persons/:id", { schema: { params: idParams } }, async (request) => {
    const persons = service(request);
    persons.remove(persons.require(request.params.id));
    return { success: true, data: { id: request.params.id } };
  });

  // v1 person endpoints with v2 equivalents are out of support since 2026-08-01 (providers-facts §4.2)
  const goneV1 = async () => {
    throw Object.assign(new Error("This endpoint is no longer available. Use API v2: /api/v2/persons"), { statusCode: 410 });
  };
  app.get("/v1/persons", goneV1);
  app.get("/v1/persons/*", goneV1);
  app.post("/v1/persons", goneV1);
  app.put("/v1/persons/*", goneV1);
  app.delete("/v1/persons/*", goneV1);
};
