import { afterEach, describe, expect, it } from "vitest";
import { DAILY_BASE_TOKENS, PLAN_MULTIPLIER } from "../src/index.js";
import { admin, raw, sandboxWithAccount, sdkError } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(plan: "lite" | "growth" | "premium" | "ultimate" = "lite", seats = 1, options: Parameters<typeof sandboxWithAccount>[0] = {}) {
  const ctx = await sandboxWithAccount(options, { plan, seats });
  cleanups.push(() => ctx.sandbox.close());
  return ctx;
}

type Stats = { calls: { total: number; byEndpoint: Record<string, number> }; throttled: number; budget: { limit: number; used: number }; maxBurstInAnyWindow: number };

describe("token-based rate limits", () => {
  it("spends the daily budget per endpoint cost and reports it in stats", async () => {
    const { sandbox, account, api } = await setup("growth", 3);
    const person = await api.persons.addPerson({ AddPersonRequest: { name: "Cost" } }); // 10
    await api.persons.getPerson({ id: person.data?.id as number }); // 2
    await api.persons.getPersons({}); // 20
    await api.persons.searchPersons({ term: "cost", fields: "name" }); // 40
    await api.persons.updatePerson({ id: person.data?.id as number, UpdatePersonRequest: { job_title: "x" } }); // 10
    await api.persons.deletePerson({ id: person.data?.id as number }); // 6
    const stats = (await admin<Stats>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body;
    expect(stats.budget).toEqual({ limit: DAILY_BASE_TOKENS * PLAN_MULTIPLIER.growth * 3, used: 88 });
    expect(stats.calls.total).toBe(6);
    expect(stats.calls.byEndpoint["GET /api/v2/persons/:id"]).toBe(1);
  });

  it("answers 429 with x-ratelimit headers past the 2 s burst of the plan (lite api token: 20)", async () => {
    const { sandbox, account } = await setup("lite");
    const results = [];
    for (let i = 0; i < 22; i++) results.push(await raw(sandbox, "/v1/users/me", { token: account.apiToken }));
    const first = results[0];
    expect(first?.headers.get("x-ratelimit-limit")).toBe("20");
    expect(first?.headers.get("x-ratelimit-remaining")).toBe("19");
    expect(first?.headers.get("x-daily-requests-left")).toBe("10000");
    expect(results.filter((r) => r.status === 200)).toHaveLength(20);
    const limited = results[20];
    expect(limited?.status).toBe(429);
    expect(limited?.json).toMatchObject({ success: false, error: "Request over limit", data: null, additional_data: null });
    expect(limited?.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(limited?.headers.get("x-ratelimit-reset"))).toBeGreaterThan(0);
    sandbox.advanceClock(2_001);
    expect((await raw(sandbox, "/v1/users/me", { token: account.apiToken })).status).toBe(200);
    const stats = (await admin<Stats>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body;
    expect(stats.throttled).toBe(2);
    expect(stats.maxBurstInAnyWindow).toBe(20);
  });

  it("limits search to 10 per 2 s and counts POSTs in x-daily-requests-left", async () => {
    const { sandbox, account } = await setup("ultimate");
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await raw(sandbox, "/api/v2/persons/search?term=ab&fields=email", { token: account.apiToken })).status);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses[10]).toBe(429);
    const created = await raw(sandbox, "/api/v2/persons", { method: "POST", token: account.apiToken, body: { name: "W" } });
    expect(created.headers.get("x-daily-requests-left")).toBe("9999");
  });

  it("answers 429 for every call once the daily budget is spent, until the next day", async () => {
    const { sandbox, account, api } = await setup("lite", 1);
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { budgetUsed: DAILY_BASE_TOKENS - 1 });
    const refused = await sdkError(api.users.getCurrentUser());
    expect(refused).toMatchObject({ success: false, error: "Daily API token budget exceeded" });
    const now = sandbox.now();
    const nextDay = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1) - now;
    sandbox.advanceClock(nextDay + 1);
    expect((await api.users.getCurrentUser()).success).toBe(true);
  });

  it("blocks an api token that keeps calling through 429s with Cloudflare's 403 HTML page", async () => {
    const { sandbox, account } = await setup("lite", 1, { cloudflareBlockAfter429s: 3 });
    const statuses = [];
    for (let i = 0; i < 25; i++) statuses.push((await raw(sandbox, "/v1/users/me", { token: account.apiToken })).status);
    expect(statuses.slice(20, 23)).toEqual([429, 429, 429]);
    const blocked = await raw(sandbox, "/v1/users/me", { token: account.apiToken });
    expect(blocked.status).toBe(403);
    expect(blocked.headers.get("content-type")).toContain("text/html");
    expect(blocked.text).toContain("Cloudflare");
  });

  it("answers 402 for a closed company and injected faults: latency, 503, 429", async () => {
    const { sandbox, account, api } = await setup("growth");
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { status: "closed" });
    expect((await raw(sandbox, "/v1/users/me", { token: account.apiToken })).status).toBe(402);
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { status: "open" });

    await admin(sandbox, "POST", "/__sandbox/faults", { accountId: account.accountId, kind: "latency", ms: 150, count: 1 });
    const started = Date.now();
    await api.users.getCurrentUser();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    await admin(sandbox, "POST", "/__sandbox/faults", { accountId: account.accountId, kind: "error", status: 503, count: 1 });
    expect((await raw(sandbox, "/v1/users/me", { token: account.apiToken })).status).toBe(503);
    await admin(sandbox, "POST", "/__sandbox/faults", { kind: "rate_limit", count: 1 });
    const limited = await raw(sandbox, "/v1/users/me", { token: account.apiToken });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect((await raw(sandbox, "/v1/users/me", { token: account.apiToken })).status).toBe(200);
  });

  it("rotating the api token makes the old one 401", async () => {
    const { sandbox, account } = await setup();
    const rotated = await admin<{ apiToken: string }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/revoke`, { credential: "api_token" });
    expect((await raw(sandbox, "/v1/users/me", { token: account.apiToken })).status).toBe(401);
    expect((await raw(sandbox, "/v1/users/me", { token: rotated.body.apiToken })).status).toBe(200);
  });
});
