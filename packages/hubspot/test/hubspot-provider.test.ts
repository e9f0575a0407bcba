import type { Sandbox } from "@leadsync/hubspot-sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubSpotApiError, RateLimitedError } from "../src/errors.js";
import { HubSpotProvider } from "../src/hubspot-provider.js";
import { ensureLeadSourceProperty } from "../src/properties.js";
import { PortalRateLimiter } from "../src/rate-limiter.js";
import { createHubSpotClient } from "../src/sdk-client.js";
import { testRedis } from "./redis-helpers.js";
import { injectFault, sandboxStats, seedContacts, silentLogger, startTestSandbox } from "./sandbox-helpers.js";

let sandbox: Sandbox;
const redisFixture = testRedis("provider");
const limiter = new PortalRateLimiter({ redis: redisFixture.redis, keyPrefix: redisFixture.keyPrefix });

beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(async () => {
  await sandbox.close();
  await redisFixture.cleanup();
});

function providerFor(portal: { portalId: number; accessToken: string }, withLimiter = true) {
  return new HubSpotProvider({
    portalId: String(portal.portalId),
    basePath: sandbox.url,
    getAccessToken: async () => portal.accessToken,
    ...(withLimiter ? { limiter: { limiter, budget: { per10s: 1000, daily: null } } } : {}),
    logger: silentLogger,
  });
}

describe("HubSpotProvider against the sandbox", () => {
  it("fetches 250 contacts in 3 batch reads and skips unknown ids", async () => {
    const portal = sandbox.createPortal({ tier: "unlimited" });
    const ids = await seedContacts(sandbox, portal.portalId, 250);
    const contacts = await providerFor(portal).fetchContacts([...ids, "999999999"], ["email", "firstname"]);
    expect(contacts).toHaveLength(250);
    expect(new Set(contacts.map((c) => c.id))).toEqual(new Set(ids));
    const first = contacts.find((c) => c.id === ids[0]);
    expect(first?.properties.email).toBe("seed0@example.com");
    expect(first?.updatedAt).toBeGreaterThan(0);
    const stats = await sandboxStats(sandbox, portal.portalId);
    expect(Object.entries(stats.calls.byEndpoint).filter(([k]) => k.includes("batch/read"))).toEqual([
      [expect.stringContaining("batch/read"), 3],
    ]);
  });

  it("upsert creates, then updates the same contact (no duplicate)", async () => {
    const portal = sandbox.createPortal({ tier: "unlimited" });
    const provider = providerFor(portal);
    const [created] = await provider.upsertContacts([
      { leadId: "lead-1", email: "Ada@Example.com", properties: { firstname: "Ada" } },
    ]);
    expect(created).toMatchObject({ leadId: "lead-1", ok: true, created: true });
    const [updated] = await provider.upsertContacts([
      { leadId: "lead-1", email: "ada@example.com", properties: { firstname: "Ada L." } },
    ]);
    expect(updated).toMatchObject({ ok: true, created: false });
    if (!created?.ok || !updated?.ok) throw new Error("unreachable");
    expect(updated.externalId).toBe(created.externalId);
    const [contact] = await provider.fetchContacts([created.externalId], ["firstname", "email"]);
    expect(contact?.properties).toMatchObject({ firstname: "Ada L.", email: "ada@example.com" });
  });

  it("turns a 429 into RateLimitedError and pauses the portal for every caller", async () => {
    const portal = sandbox.createPortal({ tier: "starter" });
    const other = sandbox.createPortal({ tier: "starter" });
    const provider = providerFor(portal);
    await injectFault(sandbox, { portalId: portal.portalId, kind: "rate_limit", count: 1, retryAfterSeconds: 7 });
    const error = await provider.fetchContacts(["1"], ["email"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(7_000);
    expect((error as RateLimitedError).status).toBe(429);
    // The next call is refused by our limiter without reaching HubSpot.
    const before = (await sandboxStats(sandbox, portal.portalId)).calls.total;
    const deferred = await providerFor(portal).fetchContacts(["1"], ["email"]).catch((e: unknown) => e);
    expect(deferred).toBeInstanceOf(RateLimitedError);
    expect((deferred as RateLimitedError).policy).toBe("local");
    expect((deferred as RateLimitedError).retryAfterMs).toBeGreaterThan(5_000);
    expect((await sandboxStats(sandbox, portal.portalId)).calls.total).toBe(before);
    // Another portal is not affected.
    await expect(providerFor(other).fetchContacts(["1"], ["email"])).resolves.toEqual([]);
  });

  it("marks a 503 retryable and makes exactly one request (SDK retries are off)", async () => {
    const portal = sandbox.createPortal({ tier: "unlimited" });
    const provider = providerFor(portal, false);
    await injectFault(sandbox, { portalId: portal.portalId, kind: "error", status: 503, count: 1 });
    const error = await provider.fetchContacts(["1"], ["email"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubSpotApiError);
    expect(error).not.toBeInstanceOf(RateLimitedError);
    expect((error as HubSpotApiError).status).toBe(503);
    expect((error as HubSpotApiError).retryable).toBe(true);
    expect((error as HubSpotApiError).message).not.toContain(portal.accessToken);
    expect((await sandboxStats(sandbox, portal.portalId)).calls.total).toBe(1);
  });

  it("an invalid property value fails only that input", async () => {
    const portal = sandbox.createPortal({ tier: "unlimited" });
    await ensureLeadSourceProperty(createHubSpotClient({ basePath: sandbox.url, accessToken: portal.accessToken }));
    const inputs = Array.from({ length: 10 }, (_, i) => ({
      leadId: `lead-${i}`,
      email: `bulk${i}@example.com`,
      properties: { firstname: `Bulk${i}`, lead_source_system: i === 6 ? "not-an-option" : "jazzaam" },
    }));
    const results = await providerFor(portal).upsertContacts(inputs);
    expect(results.map((r) => r.leadId)).toEqual(inputs.map((i) => i.leadId));
    expect(results.filter((r) => r.ok)).toHaveLength(9);
    const failed = results[6];
    expect(failed).toMatchObject({ ok: false, retryable: false });
    if (failed?.ok === false) expect(failed.message).toContain("lead_source_system");
  });

  it("searches contacts modified since a time, oldest first, with paging", async () => {
    const portal = sandbox.createPortal({ tier: "unlimited" });
    const since = Date.now() - 1_000;
    await seedContacts(sandbox, portal.portalId, 120);
    const provider = providerFor(portal);
    const first = await provider.searchContactsModifiedSince(since);
    expect(first.contacts).toHaveLength(100);
    expect(first.after).toBeDefined();
    const second = await provider.searchContactsModifiedSince(since, first.after);
    expect(second.contacts).toHaveLength(20);
    const times = [...first.contacts, ...second.contacts].map((c) => c.updatedAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
