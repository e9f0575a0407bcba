import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { callerOf } from "../http/api-guard.js";
import { badRequest } from "../http/errors.js";
import type { PersonRecord } from "../state/persons.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { decodeCursor, encodeCursor, queryBool } from "./schemas.js";

const searchQuery = z.object({
  term: z.string(),
  fields: z.string().optional(),
  exact_match: queryBool.optional(),
  organization_id: z.coerce.number().int().optional(),
  include_fields: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().optional(),
});

const PERSON_SEARCH_FIELDS = ["custom_fields", "email", "notes", "phone", "name"] as const;

function checkTerm(term: string, exact: boolean): string {
  const trimmed = term.trim();
  if (trimmed.length < (exact ? 1 : 2)) throw badRequest("Search term must be at least 2 characters long (1 with exact_match)");
  return trimmed.toLowerCase();
}

function matches(values: readonly string[], term: string, exact: boolean): boolean {
  return values.some((v) => (exact ? v.toLowerCase() === term : v.toLowerCase().includes(term)));
}

/** The searchable values of a person per field (what Pipedrive's itemSearch index holds). */
function personValues(person: PersonRecord, field: (typeof PERSON_SEARCH_FIELDS)[number]): string[] {
  switch (field) {
    case "email":
      return person.emails.map((e) => e.value);
    case "phone":
      return person.phones.map((p) => p.value);
    case "name":
      return [person.name];
    case "notes":
      return person.notes ? [person.notes] : [];
    case "custom_fields":
      return Object.values(person.custom_fields).filter((v): v is string => typeof v === "string");
  }
}

/** `/api/v2/persons/search` and `/api/v2/organizations/search` (they wrap itemSearch; the index lags writes). */
export const searchRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/api/v2/persons/search", { schema: { querystring: searchQuery } }, async (request) => {
    const q = request.query;
    const exact = q.exact_match ?? false;
    const term = checkTerm(q.term, exact);
    const fields = q.fields ? q.fields.split(",").map((f) => f.trim()) : [...PERSON_SEARCH_FIELDS];
    for (const f of fields) if (!(PERSON_SEARCH_FIELDS as readonly string[]).includes(f)) throw badRequest(`Invalid field: ${f}`);
    const { company } = callerOf(request);
    const now = state.now();
    let hits = company.persons
      .live()
      .filter((p) => p.indexed_at <= now)
      .filter((p) => q.organization_id === undefined || p.org_id === q.organization_id)
      .filter((p) => fields.some((f) => matches(personValues(p, f as (typeof PERSON_SEARCH_FIELDS)[number]), term, exact)))
      .sort((a, b) => a.id - b.id);
    if (q.cursor !== undefined) {
      const [, afterId] = decodeCursor(q.cursor);
      hits = hits.filter((p) => p.id > afterId);
    }
    const items = hits.slice(0, q.limit);
    const last = items[items.length - 1];
    return {
      success: true,
      data: {
        items: items.map((p) => {
          const org = p.org_id === null ? undefined : company.organizations.get(p.org_id);
          return {
            result_score: exact ? 1 : 0.5,
            item: {
              id: p.id,
              type: "person",
              name: p.name,
              phones: p.phones.map((x) => x.value),
              emails: p.emails.map((x) => x.value),
              visible_to: p.visible_to,
              owner: { id: p.owner_id },
              organization: org ? { id: org.id, name: org.name, address: null } : null,
              custom_fields: Object.values(p.custom_fields).filter((v): v is string => typeof v === "string"),
              notes: p.notes ? [p.notes] : [],
            },
          };
        }),
      },
      additional_data: { next_cursor: hits.length > q.limit && last ? encodeCursor(0, last.id) : null },
    };
  });

  app.get("/api/v2/organizations/search", { schema: { querystring: searchQuery } }, async (request) => {
    const q = request.query;
    const exact = q.exact_match ?? false;
    const term = checkTerm(q.term, exact);
    const orgs = [...callerOf(request).company.organizations.values()]
      .filter((o) => !o.is_deleted && matches([o.name], term, exact))
      .sort((a, b) => a.id - b.id)
      .slice(0, q.limit);
    return {
      success: true,
      data: { items: orgs.map((o) => ({ result_score: exact ? 1 : 0.5, item: { id: o.id, type: "organization", name: o.name, address: null, visible_to: 3, owner: { id: o.owner_id }, custom_fields: [], notes: [] } })) },
      additional_data: { next_cursor: null },
    };
  });
};
