import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { accountOf } from "../http/api-guard.js";
import { requiredParamMissing, ZohoError } from "../http/zoho-error.js";
import { parseCriteria, type Predicate } from "../state/criteria.js";
import type { LeadRecord } from "../state/leads.js";

/** Search answers at most 2,000 records (Zoho's cap), `per_page` ≤ 200. */
const SEARCH_CAP = 2000;

const searchQuery = z.object({
  criteria: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
  word: z.string().optional(),
  fields: z.string().optional(),
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(200).default(200),
});

/** `GET /crm/v8/Leads/search`: by email, phone, word or criteria; 204 when nothing matches. */
export const searchRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get("/crm/v8/Leads/search", { schema: { querystring: searchQuery } }, async (request, reply) => {
    const account = accountOf(request);
    const { criteria, email, phone, word } = request.query;
    let predicate: Predicate;
    if (criteria !== undefined) predicate = parseCriteria(criteria);
    else if (email !== undefined) predicate = (r) => r.values["Email"]?.toLowerCase() === email.trim().toLowerCase();
    else if (phone !== undefined) predicate = (r) => r.values["Phone"] === phone || r.values["Mobile"] === phone;
    else if (word !== undefined) predicate = (r) => Object.values(r.values).some((v) => v?.toLowerCase().includes(word.toLowerCase()));
    else throw requiredParamMissing("criteria");
    const { page, per_page: perPage } = request.query;
    if (page * perPage > SEARCH_CAP) throw new ZohoError(400, "LIMIT_REACHED", "search results are limited to 2000 records", { limit: SEARCH_CAP });
    const matches: LeadRecord[] = [...account.leads.records.values()].filter(predicate).slice(0, SEARCH_CAP);
    const slice = matches.slice((page - 1) * perPage, page * perPage);
    if (slice.length === 0) return reply.code(204).send();
    const fields = request.query.fields?.split(",").map((f) => f.trim()).filter(Boolean);
    return {
      data: slice.map((r) => account.leads.serialize(r, fields)),
      info: { per_page: perPage, count: slice.length, page, more_records: page * perPage < matches.length },
    };
  });
};
