import { afterEach, describe, expect, it } from "vitest";
import { isCrmRateLimited, ProviderConnectError, type CrmRateLimitedError } from "@leadsync/core";
import { startSandbox } from "@leadsync/pipedrive-sandbox";
import { OPERATION_COSTS, pipedriveProvider, pipedriveBudget, type PipedriveClient } from "../src/index.js";
import { admin, connectedSandbox, envFor, MARKER } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(...args: Parameters<typeof connectedSandbox>) {
  const ctx = await connectedSandbox(...args);
  cleanups.push(() => ctx.sandbox.close());
  return ctx;
}

type Person = { id: number; emails: { value: string; primary: boolean }[]; custom_fields: Record<string, unknown>; org_id: number | null };
type Stats = { calls: { byEndpoint: Record<string, number> }; duplicateEmails: number; persons: number; budget: { used: number; limit: number } };

describe("connect", () => {
  it("reads the company and our user from users/me and creates the marker field once, storing its 40-character key", async () => {
    const { sandbox, account, connected } = await setup();
    expect(connected).toMatchObject({ externalAccountId: String(account.accountId), authType: "private_app", tokens: { accessToken: account.apiToken } });
    expect(connected.state).toMatchObject({ userId: String(account.userId), companyDomain: account.companyDomain, apiDomain: sandbox.url });
    expect(connected.state["markerField"]).toMatch(/^[0-9a-f]{40}$/);
    expect(connected.state["seats"]).toBe(3); // the sandbox company's 3 users
    expect(connected.tier).toBe("growth");
    const again = await pipedriveProvider.connect({ apiToken: account.apiToken }, envFor(sandbox));
    expect(again.state["markerField"]).toBe(connected.state["markerField"]);
    const stats = (await admin<Stats>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body;
    expect(stats.calls.byEndpoint["POST /v1/personFields"]).toBe(1);
  });

  it("refuses a wrong token and a token of another company domain", async () => {
    const sandbox = await startSandbox();
    cleanups.push(() => sandbox.close());
    const account = sandbox.createAccount();
    const wrong = await pipedriveProvider.connect({ apiToken: "0".repeat(40) }, envFor(sandbox)).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ProviderConnectError);
    expect(wrong).toMatchObject({ code: "token_rejected" });
    const other = await pipedriveProvider.connect({ apiToken: account.apiToken, companyDomain: "someone-else" }, envFor(sandbox)).catch((e: unknown) => e);
    expect(other).toMatchObject({ code: "account_mismatch" });
    expect(pipedriveProvider.connectBody.safeParse({ provider: "pipedrive", apiToken: "x" }).success).toBe(true);
    expect(pipedriveProvider.connectBody.safeParse({ provider: "pipedrive" }).success).toBe(false);
  });
});

describe("writes", () => {
  it("links an existing person with the lead's email instead of creating a duplicate, and keeps its marker", async () => {
    const { sandbox, account, context, limiter } = await setup();
    const client = pipedriveProvider.createClient(context);
    expect(client.limits).toEqual({ maxBatchSize: 1, clockResolutionMs: 1000, maxParallelCalls: 8 });
    const marker = client.markerField;
    const existing = await admin<{ ids: number[] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, {
      records: [{ name: "Existing One", emails: [{ value: "Taken@Example.com", primary: true }], custom_fields: { [marker]: "pipedrive-ui" } }],
    });
    const results = await client.createContacts([
      { leadId: "lead-1", email: "taken@example.com", properties: { first_name: "New", last_name: "Name", [marker]: MARKER } },
      { leadId: "lead-2", email: "fresh@example.com", properties: { first_name: "Fresh", last_name: "Lead", job_title: "CTO", phone: "+3725551234", [marker]: MARKER } },
    ]);
    expect(results[0]).toMatchObject({ leadId: "lead-1", ok: false, retryable: false, existingId: String(existing.body.ids[0]) });
    expect(results[1]).toMatchObject({ leadId: "lead-2", ok: true, created: true, properties: { email: "fresh@example.com", first_name: "Fresh", last_name: "Lead", job_title: "CTO", phone: "+3725551234", [marker]: MARKER } });

    const taken = (await admin<Person[]>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/records?email=taken@example.com`)).body;
    expect(taken).toHaveLength(1);
    expect(taken[0]?.custom_fields[marker]).toBe("pipedrive-ui");
    const stats = (await admin<Stats>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body;
    expect(stats.duplicateEmails).toBe(0);
    expect(stats.calls.byEndpoint["POST /api/v2/persons"]).toBe(1);
    // every call was budgeted in Pipedrive's tokens, and the emulator agrees on the sum
    expect(limiter.acquired.map((a) => a.operation).sort()).toEqual(["person create", "persons search", "persons search"]);
    expect(limiter.tokensSpent()).toBe(2 * OPERATION_COSTS["persons search"] + OPERATION_COSTS["person create"]);
    expect(limiter.observed.at(-1)).toMatchObject({ window: "burst", limit: 100 });
  });

  it("two inputs with one email in one call make one person; a create right after finds it even while search lags", async () => {
    const { sandbox, account, context } = await setup({ searchIndexDelayMs: 60_000 });
    const client = pipedriveProvider.createClient(context);
    const results = await client.createContacts([
      { leadId: "a", email: "twice@example.com", properties: { first_name: "A" } },
      { leadId: "b", email: "Twice@Example.com", properties: { first_name: "B" } },
    ]);
    expect(results[0]).toMatchObject({ ok: true, created: true });
    const id = results[0]?.ok ? results[0].externalId : "";
    expect(results[1]).toMatchObject({ ok: false, existingId: id });
    const [later] = await pipedriveProvider.createClient(context).upsertContacts([{ leadId: "a", email: "twice@example.com", properties: { job_title: "Later" } }]);
    expect(later).toMatchObject({ ok: true, created: false, externalId: id });
    expect((await admin<Stats>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body.persons).toBe(1);
  });

  it("a limiter refusal throws before any call", async () => {
    const { sandbox, account, context, limiter } = await setup();
    limiter.refuse = true;
    const client = pipedriveProvider.createClient(context);
    const calls = async () => (await admin<{ calls: { total: number } }>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body.calls.total;
    const before = await calls(); // connect's own calls
    await expect(client.createContacts([{ leadId: "x", email: "no@example.com", properties: {} }])).rejects.toMatchObject({ name: "CrmRateLimitedError" });
    expect(await calls()).toBe(before);
  });

  it("upserts by email, updates with coalescing, keeps other emails, and sets the organisation by name", async () => {
    const { sandbox, account, context } = await setup();
    const client = pipedriveProvider.createClient(context);
    // The caller sends the marker with a record it creates (the outbound plan does); the client adds nothing of its own.
    const [created] = await client.upsertContacts([
      { leadId: "l1", email: "ada@example.com", properties: { first_name: "Ada", last_name: "L", org_name: "Analytical Engines", [client.markerField]: "jazzaam" } },
    ]);
    expect(created).toMatchObject({ ok: true, created: true, properties: { org_name: "Analytical Engines" } });
    const id = created?.ok ? created.externalId : "";
    const [again] = await client.upsertContacts([{ leadId: "l1", email: "ADA@example.com", properties: { job_title: "Countess" } }]);
    expect(again).toMatchObject({ ok: true, created: false, externalId: id, properties: { job_title: "Countess" } });

    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { emails: [{ value: "ada@example.com", primary: true }, { value: "ada@home.example", primary: false }] });
    const before = (await admin<Stats>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body.calls.byEndpoint["PATCH /api/v2/persons/:id"] ?? 0;
    const updated = await client.updateContacts([
      { leadId: "l1", externalId: id, properties: { last_name: "Lovelace" } },
      { leadId: "l1", externalId: id, properties: { email: "countess@example.com" } },
      { leadId: "l9", externalId: "999999", properties: { job_title: "nobody" } },
    ]);
    expect(updated[0]).toMatchObject({ ok: true, properties: { first_name: "Ada", last_name: "Lovelace", email: "countess@example.com" } });
    expect(updated[1]).toMatchObject({ ok: true, leadId: "l1" });
    expect(updated[2]).toMatchObject({ leadId: "l9", ok: false, retryable: false });
    const after = (await admin<Stats>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body.calls.byEndpoint["PATCH /api/v2/persons/:id"] ?? 0;
    // one PATCH per person: the two edits of `id` were coalesced into one call (the unknown id took the other)
    expect(after - before).toBe(2);
    const person = (await admin<Person>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/records/${id}`)).body;
    expect(person.emails.map((e) => [e.value, e.primary])).toEqual([["countess@example.com", true], ["ada@home.example", false]]);

    const [read] = await client.fetchContacts([id, "424242", "not-a-number"], ["email", "org_name", client.markerField]);
    expect(read).toMatchObject({ id, properties: { email: "countess@example.com", org_name: "Analytical Engines", [client.markerField]: MARKER } });
    expect(await client.fetchContacts(["424242"], ["email"])).toEqual([]);
  });

  it("creates a Pipedrive lead on a person, marked by origin_id", async () => {
    const { context } = await setup();
    const client = pipedriveProvider.createClient(context) as unknown as PipedriveClient;
    const [person] = await client.createContacts([{ leadId: "l", email: "lead@example.com", properties: { first_name: "Lead" } }]);
    const personId = person?.ok ? person.externalId : "";
    const leadId = await client.createLead(personId, "Website form", "jazzaam");
    expect(leadId).toMatch(/^[0-9a-f-]{36}$/);
    await expect(client.createLead("999999", "No person", "jazzaam")).rejects.toMatchObject({ name: "PipedriveApiError", status: 400, retryable: false });
  });

  it("pages backfills by cursor and reconciliation reads by updated_since", async () => {
    const { sandbox, account, context } = await setup();
    const client = pipedriveProvider.createClient(context);
    const ids = (await admin<{ ids: number[] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: Array.from({ length: 5 }, (_, i) => ({ name: `B ${i}`, emails: [{ value: `b${i}@example.com` }] })) })).body.ids.map(String);
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await client.listContactsAfter(after, ["email"], 2);
      seen.push(...page.contacts.map((c) => c.id));
      after = page.after;
    } while (after);
    expect(seen).toEqual(ids);
    expect((await client.listContactsAfter(ids[2], ["email"], 10)).contacts.map((c) => c.id)).toEqual(ids.slice(3));

    sandbox.advanceClock(10_000);
    const since = sandbox.now();
    sandbox.advanceClock(1_000);
    await client.updateContacts([{ leadId: "x", externalId: ids[1] as string, properties: { job_title: "changed" } }]);
    const modified = await client.listContactsModifiedSince(since, undefined, ["email", "job_title"]);
    expect(modified.contacts.map((c) => [c.id, c.properties["job_title"]])).toEqual([[ids[1], "changed"]]);
    expect(modified.contacts[0]?.updatedAt).toBeGreaterThanOrEqual(since - 1000);
  });
});

describe("rate limits", () => {
  it("a 429 pauses the account and throws CrmRateLimitedError (burst: the window's reset; daily: until midnight)", async () => {
    const { sandbox, account, context, limiter } = await setup();
    const client = pipedriveProvider.createClient(context);
    await admin(sandbox, "POST", "/__sandbox/faults", { accountId: account.accountId, kind: "rate_limit", count: 1 });
    const burst = (await client.createContacts([{ leadId: "l", email: "rl@example.com", properties: {} }]).catch((e: unknown) => e)) as CrmRateLimitedError;
    expect(isCrmRateLimited(burst)).toBe(true);
    expect(burst).toMatchObject({ daily: false, policy: "burst", retryAfterMs: 2000 });
    expect(limiter.paused).toEqual([{ ms: 2000, reason: "pipedrive burst" }]);

    const daily = (await admin<Stats>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body.budget.limit;
    expect(daily).toBe(pipedriveBudget("premium", 3).limits[0]?.limit);
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { budgetUsed: daily - 5 });
    const spent = (await client.fetchContacts(["1"], ["email"]).catch((e: unknown) => e)) as CrmRateLimitedError;
    expect(spent).toMatchObject({ daily: true, policy: "daily" });
    expect(spent.retryAfterMs).toBeGreaterThan(0);
    expect(spent.retryAfterMs).toBeLessThanOrEqual(24 * 60 * 60 * 1000);
    expect(limiter.paused).toHaveLength(2);
  });

  it("a real burst 429 from parallel writes comes back as retryable results once something was written", async () => {
    const { sandbox, account, context } = await setup({}, { plan: "lite" });
    const client = pipedriveProvider.createClient(context);
    const inputs = Array.from({ length: 30 }, (_, i) => ({ leadId: `b${i}`, email: `burst${i}@example.com`, properties: { first_name: `B${i}` } }));
    const results = await client.createContacts(inputs).catch((e: unknown) => e);
    // lite: 20 calls per 2 s and 10 searches per 2 s; with nothing written the whole call throws instead
    if (Array.isArray(results)) {
      expect(results.some((r) => r.ok)).toBe(true);
      expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.retryable)).toBe(true);
    } else expect(isCrmRateLimited(results)).toBe(true);
    const stats = (await admin<{ throttled: number }>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body;
    expect(stats.throttled).toBeGreaterThan(0);
  });

  it("limitPolicy: the plan's daily tokens (cost), the 2 s burst (requests) and search's own window", () => {
    const policy = pipedriveBudget("growth", 3, "oauth");
    expect(policy.limits).toEqual([
      { name: "daily", kind: "daily", timeZone: "UTC", counts: "cost", limit: 180_000 },
      { name: "burst", kind: "rolling", windowMs: 2400, counts: "requests", limit: 160 },
    ]);
    expect(policy.classOf?.("persons search")).toBe("search");
    expect(policy.classOf?.("person create")).toBeUndefined();
    expect(policy.classes?.["search"]?.limits?.[0]).toMatchObject({ kind: "rolling", windowMs: 2400, limit: 10, margin: 1 });
    const integration = { id: "i", externalAccountId: "1", authType: "private_app" as const, tier: "lite", state: { seats: 4 }, settings: {} };
    expect(pipedriveProvider.limitPolicy?.(integration).limits[0]?.limit).toBe(120_000);
    expect(pipedriveProvider.limitPolicy?.({ ...integration, settings: { rateLimit: { plan: "premium", seats: 2, extraDailyTokens: 5 } } }).limits.map((l) => l.limit)).toEqual([300_005, 100]);
  });
});
