import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type ApiHarness } from "./helpers.js";

/** Authenticated requests count per org (API_RATE_LIMIT_PER_MINUTE), anonymous ones per IP. */

const PER_ORG = 5;
let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({ API_RATE_LIMIT_PER_MINUTE: String(PER_ORG) });
});
afterAll(async () => {
  await api?.close();
});

const IP = "198.51.100.20";
const asOrg = (orgId: string, remoteAddress = IP) =>
  api.app.inject({ method: "GET", url: "/api/v1/leads", remoteAddress, headers: { authorization: `Bearer ${api.token(orgId)}` } });

describe("API rate limit", () => {
  it("limits an org to API_RATE_LIMIT_PER_MINUTE from any IP; another org on the same IP is unaffected", async () => {
    for (let i = 0; i < PER_ORG; i++) expect((await asOrg("org-busy", `198.51.100.${30 + i}`)).statusCode).toBe(200);
    const limited = await asOrg("org-busy");
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ success: false, error: { code: "rate_limited" } });
    expect((await asOrg("org-quiet")).statusCode).toBe(200);
    // Anonymous requests from that IP have their own (per-IP) budget.
    expect((await api.app.inject({ method: "GET", url: "/health", remoteAddress: IP })).statusCode).toBe(200);
  });

  it("limits anonymous requests per IP at 1,000 a minute, whatever the org budget", async () => {
    expect(api.config.apiRateLimitPerMinute).toBe(PER_ORG);
    let limitedAt = 0;
    for (let i = 1; i <= 1_100 && limitedAt === 0; i++) {
      const res = await api.app.inject({ method: "GET", url: "/health", remoteAddress: "198.51.100.99" });
      if (res.statusCode === 429) limitedAt = i;
    }
    expect(limitedAt).toBe(1_001);
  });
});
