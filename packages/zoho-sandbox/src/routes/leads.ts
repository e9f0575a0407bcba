import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { accountOf, creditsForRecords } from "../http/api-guard.js";
import { requiredParamMissing, ZohoError } from "../http/zoho-error.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { listPage, SORT_FIELDS } from "../state/paging.js";
import { parseZohoTime } from "../state/zoho-time.js";
import { writeStatus } from "./write-status.js";

export const MAX_RECORDS_PER_WRITE = 100;
const MAX_IDS_PER_READ = 100;

const writeBody = z.object({
  data: z.array(z.unknown()),
  trigger: z.array(z.string()).optional(),
  duplicate_check_fields: z.array(z.string()).optional(),
}).passthrough();

const listQuery = z.object({
  fields: z.string().optional(),
  ids: z.string().optional(),
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(200).default(200),
  page_token: z.string().optional(),
  sort_by: z.enum(SORT_FIELDS).default("id"),
  sort_order: z.enum(["asc", "desc"]).default("desc"),
});

const recordsIn = (request: { body: unknown }) => {
  const data = (request.body as { data?: unknown[] } | undefined)?.data;
  return creditsForRecords(Array.isArray(data) ? data.length : 1);
};

function checkBatch(data: readonly unknown[]): void {
  if (data.length === 0) throw requiredParamMissing("data");
  if (data.length > MAX_RECORDS_PER_WRITE) {
    throw new ZohoError(400, "LIMIT_EXCEEDED", "the number of records exceeds the limit", { api_name: "data", limit: String(MAX_RECORDS_PER_WRITE) });
  }
}

function splitList(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(",").map((s) => s.trim()).filter(Boolean);
}

/** `/crm/v8/Leads`: list/ids read, insert, update, upsert, get and delete by id. */
export const leadsRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/crm/v8/Leads", { schema: { querystring: listQuery } }, async (request, reply) => {
    const account = accountOf(request);
    const fields = splitList(request.query.fields);
    // `fields` is required for list reads since v3 (practitioners; the OAS says optional): we require it
    if (!fields || fields.length === 0) throw requiredParamMissing("fields");
    const ids = splitList(request.query.ids);
    if (ids) {
      if (ids.length > MAX_IDS_PER_READ) throw new ZohoError(400, "LIMIT_EXCEEDED", "the number of ids exceeds the limit", { api_name: "ids", limit: String(MAX_IDS_PER_READ) });
      const found = ids.flatMap((id) => {
        const record = account.leads.records.get(id);
        return record ? [account.leads.serialize(record, fields)] : [];
      });
      if (found.length === 0) return reply.code(204).send();
      return { data: found, info: { per_page: found.length, count: found.length, page: 1, more_records: false } };
    }
    const header = request.headers["if-modified-since"];
    const since = typeof header === "string" ? parseZohoTime(header) : undefined;
    if (since !== undefined && Number.isNaN(since)) throw new ZohoError(400, "INVALID_DATA", "invalid If-Modified-Since", { header_name: "If-Modified-Since" });
    const page = listPage(account.leads.records.values(), {
      sortBy: request.query.sort_by,
      sortOrder: request.query.sort_order,
      since,
      perPage: request.query.per_page,
      page: request.query.page,
      pageToken: request.query.page_token,
    });
    if (page.records.length === 0) return reply.code(204).send();
    return { data: page.records.map((r) => account.leads.serialize(r, fields)), info: page.info };
  });

  /** `GET /crm/v8/Leads/actions/count`: how many records the module holds (Zoho answers `{count}`). */
  app.get("/crm/v8/Leads/actions/count", async (request) => ({ count: accountOf(request).leads.records.size }));

  app.get("/crm/v8/Leads/:id", { schema: { params: z.object({ id: z.string() }) } }, async (request, reply) => {
    const account = accountOf(request);
    const record = account.leads.records.get(request.params.id);
    if (!record) return reply.code(204).send();
    return { data: [account.leads.serialize(record)] };
  });

  app.post("/crm/v8/Leads", { schema: { body: writeBody }, config: { credits: recordsIn } }, async (request, reply) => {
    const account = accountOf(request);
    checkBatch(request.body.data);
    const outcome = account.leads.insert(request.body.data, account.apiUser);
    state.notify(account, outcome);
    return reply.code(writeStatus(outcome.results, 201)).send({ data: outcome.results });
  });

  app.put("/crm/v8/Leads", { schema: { body: writeBody }, config: { credits: recordsIn } }, async (request, reply) => {
    const account = accountOf(request);
    checkBatch(request.body.data);
    const outcome = account.leads.update(request.body.data, account.apiUser);
    state.notify(account, outcome);
    return reply.code(writeStatus(outcome.results, 200)).send({ data: outcome.results });
  });

  app.put("/crm/v8/Leads/:id", { schema: { params: z.object({ id: z.string() }), body: writeBody } }, async (request, reply) => {
    const account = accountOf(request);
    checkBatch(request.body.data);
    const outcome = account.leads.update(request.body.data.slice(0, 1), account.apiUser, request.params.id);
    state.notify(account, outcome);
    return reply.code(writeStatus(outcome.results, 200)).send({ data: outcome.results });
  });

  app.post("/crm/v8/Leads/upsert", { schema: { body: writeBody }, config: { credits: recordsIn } }, async (request, reply) => {
    const account = accountOf(request);
    checkBatch(request.body.data);
    const checkFields = request.body.duplicate_check_fields ?? ["Email"];
    for (const field of checkFields) {
      if (!account.fields.byApiName(field)) throw new ZohoError(400, "INVALID_DATA", "invalid duplicate_check_fields", { api_name: field });
    }
    const outcome = account.leads.upsert(request.body.data, checkFields, account.apiUser);
    state.notify(account, outcome);
    const anyInsert = outcome.results.some((r) => r.status === "success" && "action" in r && r.action === "insert");
    return reply.code(writeStatus(outcome.results, anyInsert ? 201 : 200)).send({ data: outcome.results });
  });

  app.delete("/crm/v8/Leads/:id", { schema: { params: z.object({ id: z.string() }) } }, async (request, reply) => {
    const account = accountOf(request);
    const outcome = account.leads.delete([request.params.id]);
    state.notify(account, outcome);
    return reply.code(writeStatus(outcome.results, 200)).send({ data: outcome.results });
  });

  app.delete("/crm/v8/Leads", { schema: { querystring: z.object({ ids: z.string().optional() }) } }, async (request, reply) => {
    const account = accountOf(request);
    const ids = splitList(request.query.ids);
    if (!ids || ids.length === 0) throw requiredParamMissing("ids");
    if (ids.length > MAX_IDS_PER_READ) throw new ZohoError(400, "LIMIT_EXCEEDED", "the number of ids exceeds the limit", { api_name: "ids", limit: String(MAX_IDS_PER_READ) });
    const outcome = account.leads.delete(ids);
    state.notify(account, outcome);
    return reply.code(writeStatus(outcome.results, 200)).send({ data: outcome.results });
  });
};
