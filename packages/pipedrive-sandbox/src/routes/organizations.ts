import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { callerOf } from "../http/api-guard.js";
import { badRequest, notFound } from "../http/errors.js";
import type { Organization } from "../state/company.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { rfc3339 } from "../state/serialize.js";
import { idParams } from "./schemas.js";

const orgJson = (o: Organization) => ({
  id: o.id,
  name: o.name,
  owner_id: o.owner_id,
  add_time: rfc3339(o.add_time),
  update_time: rfc3339(o.update_time),
  is_deleted: o.is_deleted,
  visible_to: 3,
  label_ids: [],
  address: null,
  custom_fields: {},
});

/** Organizations v2, as far as "organisation by name" needs: create, get, list by ids (search is in search.ts). */
export const organizationRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.post(
    "/api/v2/organizations",
    { schema: { body: z.object({ name: z.string(), owner_id: z.number().int().optional() }).passthrough() } },
    async (request) => {
      const { company, user } = callerOf(request);
      if (request.body.name.trim() === "") throw badRequest("Name is required");
      return { success: true, data: orgJson(company.addOrganization(request.body.name.trim(), request.body.owner_id ?? user.id, state.now())) };
    },
  );

  app.get("/api/v2/organizations/:id", { schema: { params: idParams } }, async (request) => {
    const org = callerOf(request).company.organizations.get(request.params.id);
    if (!org || org.is_deleted) throw notFound("Organization not found");
    return { success: true, data: orgJson(org) };
  });

  app.get("/api/v2/organizations", { schema: { querystring: z.object({ ids: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }).passthrough() } }, async (request) => {
    const ids = request.query.ids ? new Set(request.query.ids.split(",").map(Number)) : undefined;
    const orgs = [...callerOf(request).company.organizations.values()].filter((o) => !o.is_deleted && (!ids || ids.has(o.id))).slice(0, request.query.limit);
    return { success: true, data: orgs.map(orgJson), additional_data: { next_cursor: null } };
  });
};
