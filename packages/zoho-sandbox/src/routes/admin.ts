import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { EDITIONS } from "../state/editions.js";
import { FAULT_KINDS } from "../state/faults.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { zohoTime } from "../state/zoho-time.js";

const accountParams = z.object({ accountId: z.string() });
const recordParams = z.object({ accountId: z.string(), id: z.string() });
const createAccount = z.object({
  edition: z.enum(EDITIONS).optional(),
  users: z.number().int().min(0).optional(),
  fieldsPermission: z.boolean().optional(),
});
const patchAccount = createAccount.extend({
  /** credits already used in the rolling 24 h (replaces the count) */
  creditsUsed: z.number().int().min(0).optional(),
  fieldApiNameSuffix: z.string().max(20).optional(),
  companyMandatory: z.boolean().optional(),
});
const faultInput = z.object({
  accountId: z.string().optional(),
  kind: z.enum(FAULT_KINDS),
  count: z.number().int().min(1).optional(),
  ms: z.number().int().min(0).max(120_000).optional(),
  status: z.number().int().min(400).max(599).optional(),
  skip: z.number().int().min(0).optional(),
});

/** `/__sandbox/*`: the shared admin routes of the CRM emulators (CONTRACT.md) plus Zoho's knobs. No auth, no credits. */
export const adminRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  const accountOr404 = (accountId: string) => {
    const account = state.accounts.get(accountId);
    if (!account) throw Object.assign(new Error(`no account ${accountId}`), { statusCode: 404 });
    return account;
  };

  app.get("/__sandbox/app", async () => ({ ...state.app, accountsUrl: state.urls.accountsUrl, apiDomain: state.urls.apiDomain, location: state.options.location }));

  app.get("/__sandbox/accounts", async () => [...state.accounts.values()].map((a) => state.info(a)));

  app.post("/__sandbox/accounts", { schema: { body: createAccount.optional() } }, async (request, reply) =>
    reply.code(201).send(state.info(state.createAccount(request.body ?? {}))),
  );

  app.patch("/__sandbox/accounts/:accountId", { schema: { params: accountParams, body: patchAccount } }, async (request) => {
    const account = accountOr404(request.params.accountId);
    const { creditsUsed, ...settings } = request.body;
    for (const [key, value] of Object.entries(settings)) if (value !== undefined) Object.assign(account.settings, { [key]: value });
    if (creditsUsed !== undefined) account.credits.setUsed(creditsUsed);
    return { ...state.info(account), settings: account.settings, creditsUsed: account.credits.used(Date.now()), creditLimit: account.creditLimit() };
  });

  app.post("/__sandbox/accounts/:accountId/records", { schema: { params: accountParams, body: z.object({ records: z.array(z.record(z.string(), z.unknown())).min(1) }) } }, async (request, reply) => {
    const account = accountOr404(request.params.accountId);
    const outcome = account.leads.insert(request.body.records, account.person);
    state.notify(account, outcome);
    const failed = outcome.results.find((r) => r.status === "error");
    if (failed) return reply.code(400).send({ data: outcome.results });
    return reply.code(201).send({ ids: outcome.changes.map((c) => c.id) });
  });

  app.get("/__sandbox/accounts/:accountId/records", { schema: { params: accountParams, querystring: z.object({ email: z.string().optional() }) } }, async (request) => {
    const account = accountOr404(request.params.accountId);
    const records = request.query.email === undefined ? [...account.leads.records.values()] : account.leads.byEmail(request.query.email);
    return { data: records.map((r) => account.leads.serialize(r)) };
  });

  app.get("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams } }, async (request, reply) => {
    const account = accountOr404(request.params.accountId);
    const record = account.leads.records.get(request.params.id);
    if (!record) return reply.code(404).send({ code: "INVALID_DATA", details: { id: request.params.id }, message: "no such record", status: "error" });
    return { data: [account.leads.serialize(record)] };
  });

  app.patch("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams, body: z.record(z.string(), z.unknown()) } }, async (request, reply) => {
    const account = accountOr404(request.params.accountId);
    const outcome = account.leads.update([request.body], account.person, request.params.id);
    state.notify(account, outcome);
    const result = outcome.results[0];
    return reply.code(result?.status === "success" ? 200 : 400).send({ data: outcome.results });
  });

  app.delete("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams } }, async (request, reply) => {
    const account = accountOr404(request.params.accountId);
    const outcome = account.leads.delete([request.params.id]);
    state.notify(account, outcome);
    return reply.code(outcome.changes.length === 1 ? 204 : 404).send();
  });

  app.get("/__sandbox/accounts/:accountId/stats", { schema: { params: accountParams } }, async (request) => {
    const account = accountOr404(request.params.accountId);
    const { dropped, ...notifications } = state.delivery.statsOf(account.accountId);
    return {
      calls: { total: account.calls.total, byEndpoint: { ...account.calls.byEndpoint } },
      throttled: account.calls.throttled,
      notifications: { ...notifications, dropped },
      credits: { used: account.credits.used(Date.now()), limit: account.creditLimit() },
      concurrency: { limit: account.concurrencyLimit(), maxInFlight: account.maxInFlight },
    };
  });

  app.get("/__sandbox/accounts/:accountId/channels", { schema: { params: accountParams } }, async (request) => {
    const account = accountOr404(request.params.accountId);
    return account.channels.live(Date.now()).map((c) => ({ channelId: c.channelId, events: [...c.events], notifyUrl: c.notifyUrl, channelExpiry: zohoTime(c.expiresAt) }));
  });

  /** The channel expires now: it stops notifying and is garbage-collected at once (renewing it → NOT_SUBSCRIBED). */
  app.post("/__sandbox/accounts/:accountId/channels/:channelId/expire", { schema: { params: z.object({ accountId: z.string(), channelId: z.string() }) } }, async (request, reply) => {
    const account = accountOr404(request.params.accountId);
    if (!account.channels.expireNow(request.params.channelId, Date.now())) return reply.code(404).send();
    account.channels.collectGarbage(Date.now());
    return reply.code(204).send();
  });

  app.post("/__sandbox/accounts/:accountId/expire-access-tokens", { schema: { params: accountParams } }, async (request, reply) => {
    state.tokens.expireAccessTokens(accountOr404(request.params.accountId).accountId);
    return reply.code(204).send();
  });

  /** Revokes every refresh token (and its access tokens); `connect` then carries a fresh one, as after re-consent. */
  app.post("/__sandbox/accounts/:accountId/revoke-refresh-tokens", { schema: { params: accountParams } }, async (request, reply) => {
    state.revokeRefreshTokens(accountOr404(request.params.accountId).accountId);
    return reply.code(204).send();
  });

  app.post("/__sandbox/faults", { schema: { body: faultInput } }, async (request, reply) => reply.code(201).send({ id: state.faults.add(request.body).id }));
  app.get("/__sandbox/faults", async () => ({ results: state.faults.list() }));
  app.delete("/__sandbox/faults", async (_request, reply) => {
    state.faults.clear();
    return reply.code(204).send();
  });
};
