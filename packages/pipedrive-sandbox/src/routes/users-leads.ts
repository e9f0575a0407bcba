import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { callerOf } from "../http/api-guard.js";
import { badRequest, notFound } from "../http/errors.js";
import type { Company, Lead } from "../state/company.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { rfc3339, v1Time } from "../state/serialize.js";

const leadJson = (lead: Lead) => ({
  id: lead.id,
  title: lead.title,
  owner_id: lead.owner_id,
  creator_id: lead.creator_id,
  label_ids: lead.label_ids,
  person_id: lead.person_id,
  organization_id: lead.organization_id,
  source_name: "API",
  origin: "API",
  origin_id: lead.origin_id,
  channel: lead.channel,
  channel_id: lead.channel_id,
  source_deal_id: null,
  is_archived: lead.is_archived,
  was_seen: lead.was_seen,
  value: lead.value,
  expected_close_date: lead.expected_close_date,
  next_activity_id: null,
  add_time: rfc3339(lead.add_time),
  update_time: rfc3339(lead.update_time),
  visible_to: lead.visible_to,
  cc_email: `lead-${lead.id.slice(0, 8)}@pipedrivemail.com`,
});

const addLeadBody = z.object({
  title: z.string().optional(),
  owner_id: z.number().int().optional(),
  label_ids: z.array(z.string()).optional(),
  person_id: z.number().int().optional(),
  organization_id: z.number().int().optional(),
  value: z.object({ amount: z.number(), currency: z.string() }).nullable().optional(),
  expected_close_date: z.string().optional(),
  visible_to: z.enum(["1", "3", "5", "7"]).optional(),
  was_seen: z.boolean().optional(),
  origin_id: z.string().nullable().optional(),
  channel: z.number().int().nullable().optional(),
  channel_id: z.string().nullable().optional(),
});

function requireLinks(company: Company, personId: number | undefined, orgId: number | undefined): void {
  if (personId === undefined && orgId === undefined) throw badRequest("A lead must be linked to a person or an organization: person_id or organization_id is required");
  if (personId !== undefined) {
    const person = company.persons.get(personId);
    if (!person || person.is_deleted) throw badRequest(`Person with id ${personId} does not exist`);
  }
  if (orgId !== undefined && !company.organizations.get(orgId)) throw badRequest(`Organization with id ${orgId} does not exist`);
}

/** `/v1/users/me`, `/v1/users` (one per seat) and v1 leads (create needs `title` and `person_id` or `organization_id`; get; list). */
export const usersLeadsRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/v1/users/me", async (request) => {
    const { company, user } = callerOf(request);
    return {
      success: true,
      data: {
        id: user.id,
        name: user.name,
        email: user.email,
        default_currency: "EUR",
        locale: "en_US",
        lang: 1,
        phone: null,
        activated: true,
        last_login: v1Time(state.now()),
        created: v1Time(state.now()),
        modified: null,
        has_created_company: user.is_admin,
        access: [{ app: "sales", admin: user.is_admin, permission_set_id: "1" }],
        active_flag: true,
        timezone_name: "Europe/Tallinn",
        timezone_offset: "+02:00",
        role_id: 1,
        icon_url: null,
        is_you: true,
        is_deleted: false,
        is_admin: user.is_admin ? 1 : 0,
        company_id: company.id,
        company_name: `Company ${company.id}`,
        company_domain: company.domain,
        company_country: "EE",
        company_industry: "software",
        language: { language_code: "en", country_code: "US" },
      },
    };
  });

  app.get("/v1/users", async (request) => {
    const { company, user: caller } = callerOf(request);
    return {
      success: true,
      data: company.users.map((u) => ({ id: u.id, name: u.name, email: u.email, active_flag: true, is_admin: u.is_admin ? 1 : 0, is_you: u.id === caller.id, role_id: 1, activated: true, is_deleted: false })),
    };
  });

  app.post("/v1/leads", { schema: { body: addLeadBody } }, async (request, reply) => {
    const { company, user } = callerOf(request);
    const body = request.body;
    if (!body.title || body.title.trim() === "") throw badRequest("title is required");
    requireLinks(company, body.person_id, body.organization_id);
    const lead = company.addLead(
      {
        title: body.title,
        owner_id: body.owner_id ?? user.id,
        creator_id: user.id,
        person_id: body.person_id ?? null,
        organization_id: body.organization_id ?? null,
        origin_id: body.origin_id ?? null,
        channel: body.channel ?? null,
        channel_id: body.channel_id ?? null,
        label_ids: body.label_ids ?? [],
        value: body.value ?? null,
        expected_close_date: body.expected_close_date ?? null,
        visible_to: body.visible_to ?? "3",
        was_seen: body.was_seen ?? false,
      },
      state.now(),
    );
    return reply.code(201).send({ success: true, data: leadJson(lead) });
  });

  app.get("/v1/leads/:id", { schema: { params: z.object({ id: z.string() }) } }, async (request) => {
    const lead = callerOf(request).company.leads.get(request.params.id);
    if (!lead || lead.is_archived) throw notFound("Lead not found");
    return { success: true, data: leadJson(lead) };
  });

  app.get(
    "/v1/leads",
    { schema: { querystring: z.object({ person_id: z.coerce.number().int().optional(), start: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(500).default(100) }).passthrough() } },
    async (request) => {
      const { person_id, start, limit } = request.query;
      const leads = [...callerOf(request).company.leads.values()].filter((l) => !l.is_archived && (person_id === undefined || l.person_id === person_id));
      const more = start + limit < leads.length;
      return {
        success: true,
        data: leads.slice(start, start + limit).map(leadJson),
        additional_data: { pagination: { start, limit, more_items_in_collection: more, ...(more && { next_start: start + limit }) } },
      };
    },
  );
};
