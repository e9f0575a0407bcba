import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { notFound } from "../http/errors.js";
import { SANDBOX_PLANS } from "../options.js";
import type { Company } from "../state/company.js";
import { FAULT_KINDS } from "../state/faults.js";
import { PersonService } from "../state/person-service.js";
import { primaryEmail } from "../state/persons.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { personV2 } from "../state/serialize.js";
import { personBody } from "./schemas.js";

const accountParams = z.object({ accountId: z.coerce.number().int() });
const recordParams = z.object({ accountId: z.coerce.number().int(), id: z.coerce.number().int() });

const faultInput = z.object({
  accountId: z.number().int().optional(),
  kind: z.enum(FAULT_KINDS),
  count: z.number().int().min(1).optional(),
  ms: z.number().int().min(0).max(120_000).optional(),
  status: z.number().int().min(400).max(599).optional(),
  limit: z.enum(["burst", "daily"]).optional(),
});

export function requireCompany(state: SandboxState, accountId: number): Company {
  const company = state.companies.get(accountId);
  if (!company) throw notFound(`Account ${accountId} not found`);
  return company;
}

/**
 * The admin routes every CRM emulator shares (CONTRACT.md "CRM emulators"), under `/__sandbox`, no auth, no API
 * budget. Records are persons; writes here act as a person in Pipedrive's web app (`change_source: "app"`, the UI
 * user's id), so webhooks fire as for a UI edit.
 */
export const adminRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  const ui = (accountId: number) => {
    const company = requireCompany(state, accountId);
    return { company, persons: new PersonService(state, company, "app", company.uiUser.id) };
  };

  app.get("/__sandbox/app", async () => ({ clientId: state.app.clientId, clientSecret: state.app.clientSecret }));

  app.get("/__sandbox/accounts", async () => [...state.companies.values()].map((c) => c.info()));

  app.post(
    "/__sandbox/accounts",
    { schema: { body: z.object({ plan: z.enum(SANDBOX_PLANS).optional(), seats: z.number().int().min(1).optional() }).default({}) } },
    async (request, reply) => reply.code(201).send(state.createCompany(request.body).info()),
  );

  app.patch(
    "/__sandbox/accounts/:accountId",
    {
      schema: {
        params: accountParams,
        body: z.object({
          plan: z.enum(SANDBOX_PLANS).optional(),
          seats: z.number().int().min(1).optional(),
          budgetUsed: z.number().int().min(0).optional(),
          extraDailyTokens: z.number().int().min(0).optional(),
          status: z.enum(["open", "closed"]).optional(),
        }),
      },
    },
    async (request) => {
      const company = requireCompany(state, request.params.accountId);
      const body = request.body;
      if (body.plan !== undefined) company.plan = body.plan;
      if (body.seats !== undefined) company.seats = body.seats;
      if (body.budgetUsed !== undefined) company.limits.dailyUsed = body.budgetUsed;
      if (body.extraDailyTokens !== undefined) company.limits.extraDailyTokens = body.extraDailyTokens;
      if (body.status !== undefined) company.status = body.status;
      return company.info();
    },
  );

  app.post(
    "/__sandbox/accounts/:accountId/revoke",
    { schema: { params: accountParams, body: z.object({ credential: z.enum(["api_token", "refresh_tokens", "access_tokens"]) }) } },
    async (request) => {
      const company = requireCompany(state, request.params.accountId);
      if (request.body.credential === "api_token") state.rotateApiToken(company.admin);
      if (request.body.credential === "refresh_tokens") state.oauth.revokeRefreshTokens(company.id);
      if (request.body.credential === "access_tokens") state.oauth.expireAccessTokens(company.id, state.now());
      return company.info();
    },
  );

  app.post("/__sandbox/clock", { schema: { body: z.object({ advanceMs: z.number().int().min(0) }) } }, async (request) => {
    state.advanceClock(request.body.advanceMs);
    return { now: new Date(state.now()).toISOString() };
  });

  app.post(
    "/__sandbox/accounts/:accountId/records",
    { schema: { params: accountParams, body: z.object({ records: z.array(personBody) }) } },
    async (request, reply) => {
      const { persons } = ui(request.params.accountId);
      return reply.code(201).send({ ids: request.body.records.map((r) => persons.create(r).id) });
    },
  );

  app.get(
    "/__sandbox/accounts/:accountId/records",
    { schema: { params: accountParams, querystring: z.object({ email: z.string().optional() }) } },
    async (request) => {
      const company = requireCompany(state, request.params.accountId);
      const email = request.query.email?.trim().toLowerCase();
      const matching = company.persons.live().filter((p) => email === undefined || p.emails.some((e) => e.value.toLowerCase() === email));
      return matching.map(personV2);
    },
  );

  app.get("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams } }, async (request) => {
    const record = requireCompany(state, request.params.accountId).persons.get(request.params.id);
    if (!record) throw notFound("Person not found");
    return personV2(record);
  });

  app.patch("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams, body: personBody } }, async (request) => {
    const { persons } = ui(request.params.accountId);
    return personV2(persons.update(persons.require(request.params.id), request.body));
  });

  app.delete("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams } }, async (request, reply) => {
    const { persons } = ui(request.params.accountId);
    persons.remove(persons.require(request.params.id));
    return reply.code(204).send();
  });

  app.post(
    "/__sandbox/accounts/:accountId/records/:id/merge",
    { schema: { params: recordParams, body: z.object({ into: z.coerce.number().int() }) } },
    async (request) => {
      const { persons } = ui(request.params.accountId);
      return personV2(persons.merge(persons.require(request.params.id), persons.require(request.body.into)));
    },
  );

  app.get("/__sandbox/accounts/:accountId/stats", { schema: { params: accountParams } }, async (request) => {
    const company = requireCompany(state, request.params.accountId);
    return {
      calls: { total: company.calls.total, byEndpoint: { ...company.calls.byEndpoint } },
      throttled: company.calls.throttled,
      notifications: state.delivery.statsOf(company.id),
      budget: { limit: company.limits.dailyLimit(), used: company.limits.dailyUsed },
      maxBurstInAnyWindow: company.limits.maxBurstInAnyWindow,
      persons: company.persons.live().length,
      duplicateEmails: duplicateEmails(company),
      webhooks: company.webhooks.map((w) => ({ id: w.id, event: `${w.event_action}.${w.event_object}`, bannedUntil: w.bannedUntil, failedFirstAttempts: w.failedFirstAttempts })),
    };
  });

  app.post("/__sandbox/faults", { schema: { body: faultInput } }, async (request, reply) => reply.code(201).send({ id: state.faults.add(request.body).id }));
  app.get("/__sandbox/faults", async () => ({ results: state.faults.list() }));
  app.delete("/__sandbox/faults", async (_request, reply) => {
    state.faults.clear();
    return reply.code(204).send();
  });
};

/** Emails held by more than one live person: what an integration that forgets to search first produces. */
function duplicateEmails(company: Company): number {
  const seen = new Map<string, number>();
  for (const person of company.persons.live()) {
    const email = primaryEmail(person);
    if (email) seen.set(email, (seen.get(email) ?? 0) + 1);
  }
  return [...seen.values()].filter((n) => n > 1).length;
}
