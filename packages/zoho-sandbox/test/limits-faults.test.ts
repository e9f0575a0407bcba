import { afterEach, describe, expect, it } from "vitest";
import { creditsPerDay, type Sandbox } from "../src/index.js";
import { admin, lead, sandboxWithAccount } from "./helpers.js";

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("credits, concurrency and faults", () => {
  it("knows the editions' credits (with users and ceilings)", () => {
    expect(creditsPerDay("free", 10)).toBe(5_000);
    expect(creditsPerDay("standard", 10)).toBe(52_500);
    expect(creditsPerDay("standard", 1000)).toBe(100_000);
    expect(creditsPerDay("enterprise", 10)).toBe(60_000);
    expect(creditsPerDay("ultimate", 10_000)).toBe(20_050_000);
  });

  it("adds X-API-CREDITS-REMAINING from 50 % used, answers 429 TOO_MANY_REQUESTS when the credits run out; writes cost 1 per 10 records", async () => {
    const s = await sandboxWithAccount({}, { edition: "free" });
    sandbox = s.sandbox;
    const quiet = await s.api("GET", "/crm/v8/org");
    expect(quiet.headers.get("x-api-credits-remaining")).toBeNull();
    await admin(s.sandbox, "PATCH", `/__sandbox/accounts/${s.account.accountId}`, { creditsUsed: 2_499 });
    const half = await s.api("GET", "/crm/v8/org");
    expect(half.headers.get("x-api-credits-remaining")).toBe("2500");
    const write = await s.api("POST", "/crm/v8/Leads", { data: Array.from({ length: 25 }, (_, i) => lead(i)) });
    expect(write.headers.get("x-api-credits-remaining")).toBe("2497");

    await admin(s.sandbox, "PATCH", `/__sandbox/accounts/${s.account.accountId}`, { creditsUsed: 4_999 });
    expect((await s.api("GET", "/crm/v8/org")).headers.get("x-api-credits-remaining")).toBe("0");
    const refused = await s.api("GET", "/crm/v8/org");
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "TOO_MANY_REQUESTS", status: "error" });
    const stats = await admin(s.sandbox, "GET", `/__sandbox/accounts/${s.account.accountId}/stats`);
    expect(stats.body).toMatchObject({ throttled: 1, credits: { used: 5_000, limit: 5_000 } });
    expect(stats.body.calls.byEndpoint["GET /crm/v8/org"]).toBe(4);
  });

  it("answers 429 beyond the edition's concurrency", async () => {
    const s = await sandboxWithAccount({}, { edition: "free" });
    sandbox = s.sandbox;
    await admin(s.sandbox, "POST", "/__sandbox/faults", { kind: "latency", ms: 300, count: 5 });
    const replies = await Promise.all(Array.from({ length: 7 }, () => s.api("GET", "/crm/v8/org")));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(5);
    expect(replies.filter((r) => r.status === 429).map((r) => r.body.code)).toEqual(["TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS"]);
    expect((await admin(s.sandbox, "GET", `/__sandbox/accounts/${s.account.accountId}/stats`)).body.concurrency).toEqual({ limit: 5, maxInFlight: 5 });
  });

  it("injects 5xx and 429 faults for a count, then clears", async () => {
    const s = await sandboxWithAccount();
    sandbox = s.sandbox;
    await admin(s.sandbox, "POST", "/__sandbox/faults", { accountId: s.account.accountId, kind: "error", status: 503, count: 1 });
    await admin(s.sandbox, "POST", "/__sandbox/faults", { kind: "rate_limit", count: 1 });
    const failed = await s.api("GET", "/crm/v8/org");
    expect(failed.status).toBe(503);
    expect(failed.body.status).toBe("error");
    expect((await s.api("GET", "/crm/v8/org")).status).toBe(429);
    expect((await s.api("GET", "/crm/v8/org")).status).toBe(200);
    await admin(s.sandbox, "POST", "/__sandbox/faults", { kind: "error" });
    expect((await admin(s.sandbox, "GET", "/__sandbox/faults")).body.results).toHaveLength(1);
    expect((await admin(s.sandbox, "DELETE", "/__sandbox/faults")).status).toBe(204);
    expect((await s.api("GET", "/crm/v8/org")).status).toBe(200);
  });

  it("lists accounts with the connect body the platform API takes", async () => {
    const s = await sandboxWithAccount();
    sandbox = s.sandbox;
    const created = await admin(s.sandbox, "POST", "/__sandbox/accounts", { edition: "standard", users: 3 });
    expect(created.status).toBe(201);
    expect(created.body.connect).toEqual({ provider: "zoho", refreshToken: expect.stringMatching(/^1000\./), apiDomain: s.sandbox.apiDomain, accountsUrl: s.sandbox.accountsUrl, clientId: s.sandbox.app.clientId });
    const listed = await admin(s.sandbox, "GET", "/__sandbox/accounts");
    expect(listed.body.map((a: { accountId: string }) => a.accountId)).toEqual([s.account.accountId, created.body.accountId]);
    expect((await admin(s.sandbox, "GET", "/__sandbox/app")).body).toMatchObject({ clientId: s.sandbox.app.clientId, clientSecret: s.sandbox.app.clientSecret });
  });
});
