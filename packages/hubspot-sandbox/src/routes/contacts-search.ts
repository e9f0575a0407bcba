import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { searchContacts } from "../crm/search.js";
import { toPublicObject } from "../crm/serialize.js";
import { portalOf } from "../http/api-guard.js";
import type { SandboxState } from "../state/sandbox-state.js";

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const filter = z.object({
  propertyName: z.string(),
  operator: z.enum(["EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"]),
  value: scalar.optional(),
  highValue: scalar.optional(),
  values: z.array(scalar).optional(),
});

const searchBody = z.object({
  filterGroups: z.array(z.object({ filters: z.array(filter) })).optional(),
  sorts: z.array(z.union([z.string(), z.object({ propertyName: z.string(), direction: z.enum(["ASCENDING", "DESCENDING"]).optional() })])).optional(),
  query: z.string().optional(),
  properties: z.array(z.string()).optional(),
  limit: z.number().int().optional(),
  after: z.union([z.string(), z.number()]).optional(),
});

/** `POST /crm/v3/objects/contacts/search` (5 per second per portal, no rate-limit headers: see the API guard). */
export const contactsSearchRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app) => {
  app.post("/crm/v3/objects/contacts/search", { schema: { body: searchBody } }, async (request) => {
    const portal = portalOf(request);
    const page = searchContacts(portal.contacts.live(), request.body, portal.properties);
    return {
      total: page.total,
      results: page.results.map((record) => toPublicObject(record, request.body.properties)),
      ...(page.nextAfter !== undefined && { paging: { next: { after: page.nextAfter } } }),
    };
  });
};
