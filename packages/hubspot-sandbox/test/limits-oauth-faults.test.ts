import { afterEach, describe, expect, it } from "vitest";
import { admin, apiError, sandboxWithPortal, sdkClient } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(portal: Parameters<typeof sandboxWithPortal>[1] = {}) {
  const context = await sandboxWithPortal({}, portal);
  cleanups.push(() => context.sandbox.close());
  return context;
}

interface Stats {
  calls: { total: number; byEndpoint: Record<string, number> };
  throttled: number;
  maxCallsInAnyWindow: number;
}

describe("rate limits", () => {
  it("answers the 101st call within 10 s on a starter portal with 429 TEN_SECONDLY_ROLLING, headers and stats", async () => {
    const { sandbox, portal, client } = await setup({ tier: "starter" });
    for (let i = 0; i < 100; i++) {
      const response = await client.crm.contacts.basicApi.getPageWithHttpInfo(1);
      expect(response.httpStatusCode).toBe(200);
      if (i === 0) {
        expect(response.headers).toMatchObject({
          "x-hubspot-ratelimit-interval-milliseconds": "10000",
          "x-hubspot-ratelimit-max": "100",
          "x-hubspot-ratelimit-remaining": "99",
          "x-hubspot-ratelimit-daily": "250000",
          "x-hubspot-ratelimit-daily-remaining": "249999",
        });
      }
    }
    const throttled = await apiError(client.crm.contacts.basicApi.getPage(1));
    expect(throttled.code).toBe(429);
    expect(throttled.body).toMatchObject({ status: "error", errorType: "RATE_LIMIT", policyName: "TEN_SECONDLY_ROLLING" });
    expect(throttled.headers).toMatchObject({ "x-hubspot-ratelimit-max": "100", "x-hubspot-ratelimit-remaining": "0" });

    const { body: stats } = await admin<Stats>(sandbox, "GET", `/__sandbox/portals/${portal.portalId}/stats`);
    expect(stats.calls.total).toBe(101);
    expect(stats.calls.byEndpoint["GET /crm/v3/objects/contacts"]).toBe(101);
    expect(stats.throttled).toBe(1);
    expect(stats.maxCallsInAnyWindow).toBe(100);
  });

  it("enforces the daily cap and search's 5 per second, without rate headers on search", async () => {
    const { sandbox, portal, client } = await setup({ tier: "professional" });
    const searches = await Promise.allSettled(Array.from({ length: 6 }, () => client.crm.contacts.searchApi.doSearchWithHttpInfo({ limit: 1 } as never)));
    const ok = searches.filter((s) => s.status === "fulfilled");
    expect(ok).toHaveLength(5);
    for (const s of ok) expect(Object.keys(s.value.headers).some((h) => h.startsWith("x-hubspot-ratelimit"))).toBe(false);
    const rejected = searches.find((s) => s.status === "rejected");
    expect((rejected?.reason as { body: { policyName: string } }).body.policyName).toBe("SECONDLY");

    await admin(sandbox, "PATCH", `/__sandbox/portals/${portal.portalId}`, { dailyUsed: 625_000 });
    const daily = await apiError(client.crm.contacts.basicApi.getPage());
    expect(daily.code).toBe(429);
    expect(daily.body["policyName"]).toBe("DAILY");
  });

  it("lets admin routes through without spending budget", async () => {
    const { sandbox, portal } = await setup();
    await admin(sandbox, "PATCH", `/__sandbox/portals/${portal.portalId}`, { rateLimitPer10s: 0 });
    expect((await admin(sandbox, "GET", `/__sandbox/portals/${portal.portalId}/contacts`)).status).toBe(200);
    const { body } = await admin<Stats>(sandbox, "GET", `/__sandbox/portals/${portal.portalId}/stats`);
    expect(body.calls.total).toBe(0);
  });
});

describe("OAuth", () => {
  it("refreshes an access token, reports expiry, and answers invalid_grant once the refresh token is revoked", async () => {
    const { sandbox, portal, client } = await setup({ authType: "oauth" });
    expect(portal.refreshToken).toEqual(expect.any(String));
    const first = await client.crm.contacts.basicApi.getPageWithHttpInfo();
    expect(first.headers["x-hubspot-ratelimit-max"]).toBe("110");
    expect(first.headers).not.toHaveProperty("x-hubspot-ratelimit-daily");

    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/expire-access-token`);
    const expired = await apiError(client.crm.contacts.basicApi.getPage());
    expect(expired.code).toBe(401);
    expect(expired.body["category"]).toBe("EXPIRED_AUTHENTICATION");

    const { clientId, clientSecret } = sandbox.app;
    const tokens = await client.oauth.tokensApi.create("refresh_token", undefined, undefined, clientId, clientSecret, portal.refreshToken);
    expect(tokens).toMatchObject({ tokenType: "bearer", refreshToken: portal.refreshToken, expiresIn: 1800 });
    const refreshed = sdkClient(sandbox, tokens.accessToken);
    expect((await refreshed.crm.contacts.basicApi.getPage()).results).toEqual([]);
    const info = await refreshed.oauth.accessTokensApi.get(tokens.accessToken);
    expect(info).toMatchObject({ hubId: portal.portalId, appId: sandbox.app.appId });

    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/revoke-refresh-token`);
    const invalid = await apiError(client.oauth.tokensApi.create("refresh_token", undefined, undefined, clientId, clientSecret, portal.refreshToken));
    expect(invalid.code).toBe(400);
    expect(invalid.body).toMatchObject({ error: "invalid_grant", status: "BAD_REFRESH_TOKEN" });
  });
});

describe("fault injection", () => {
  it("answers the next calls with the injected status or 429, then recovers", async () => {
    const { sandbox, portal, client } = await setup();
    const created = await admin<{ id: string }>(sandbox, "POST", "/__sandbox/faults", { portalId: portal.portalId, kind: "error", status: 503, count: 2 });
    expect(created.status).toBe(201);
    expect((await admin<{ results: unknown[] }>(sandbox, "GET", "/__sandbox/faults")).body.results).toHaveLength(1);
    expect((await apiError(client.crm.contacts.basicApi.getPage())).code).toBe(503);
    expect((await apiError(client.crm.contacts.basicApi.getPage())).code).toBe(503);
    expect((await client.crm.contacts.basicApi.getPage()).results).toEqual([]);

    await admin(sandbox, "POST", "/__sandbox/faults", { kind: "rate_limit", policyName: "DAILY", retryAfterSeconds: 7 });
    const limited = await apiError(client.crm.contacts.basicApi.getPage());
    expect(limited.code).toBe(429);
    expect(limited.body["policyName"]).toBe("DAILY");
    expect(limited.headers["retry-after"]).toBe("7");
    expect((await apiError(client.crm.contacts.basicApi.getPage())).code).toBe(429); // no count: until cleared

    expect((await admin(sandbox, "DELETE", "/__sandbox/faults")).status).toBe(204);
    await admin(sandbox, "POST", "/__sandbox/faults", { kind: "latency", ms: 50, count: 1 });
    expect((await client.crm.contacts.basicApi.getPage()).results).toEqual([]);
    const { body } = await admin<Stats>(sandbox, "GET", `/__sandbox/portals/${portal.portalId}/stats`);
    expect(body.calls.total).toBe(6);
    expect(body.throttled).toBe(2);
  });
});
