import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_READ, eventually, hubspotEvent, startHarness, type Harness } from "../../../test/e2e/harness.js";
import { PortalRateLimiter } from "@leadsync/hubspot";
import { createRedisConnection } from "@leadsync/queue";
import { startWorkers } from "../src/workers.js";

// The inbound worker against the real sandbox, Postgres and Redis, jobs enqueued directly (no receiver).

let h: Harness;
beforeAll(async () => {
  // A long window: every job below is picked up well within it, so batching is decided by size alone.
  h = await startHarness({ receiver: false, batchWindowMs: 1_000, concurrency: 64 });
});
afterAll(async () => h?.close());

function job(events: Record<string, unknown>[]) {
  return { name: "crm-changes" as const, data: { v: 1 as const, provider: "hubspot" as const, receivedAt: Date.now(), events } };
}

describe("coalescing", () => {
  it("N events over M contacts cost ⌈M/100⌉ batch reads and one lead per contact", async () => {
    const M = 150;
    const ids = await h.createContacts(Array.from({ length: M }, (_, i) => ({ email: `bulk${i}@example.com`, firstname: `Bulk ${i}` })));
    const readsBefore = (await h.stats()).calls.byEndpoint[BATCH_READ] ?? 0;

    // 300 events in 30 jobs of 10, as HubSpot batches them: a contact's creation and property change travel together.
    const events = ids.flatMap((objectId, i) => [
      hubspotEvent({ portalId: h.portalId, objectId, subscriptionType: "contact.creation", eventId: 2 * i }),
      hubspotEvent({ portalId: h.portalId, objectId, subscriptionType: "contact.propertyChange", eventId: 2 * i + 1, propertyName: "firstname", propertyValue: `Bulk ${i}` }),
    ]);
    const jobs = Array.from({ length: 30 }, (_, j) => job(events.slice(j * 10, j * 10 + 10)));
    await h.events.addBulk(jobs);

    await eventually(async () => (await h.prisma.lead.count({ where: { orgId: h.orgId } })) === M, { what: `${M} leads`, timeoutMs: 15_000 });
    await h.settled();
    expect(h.logs.filter((l) => l.level >= 50)).toEqual([]);
    const reads = ((await h.stats()).calls.byEndpoint[BATCH_READ] ?? 0) - readsBefore;
    expect(reads).toBe(Math.ceil(M / 100));
    expect(await h.prisma.webhookEvent.count({ where: { integrationId: h.integration.id } })).toBe(2 * M);
  });
});

describe("a batch that needs several reads", () => {
  it("takes the budget for all of them at once: with too little left it reads nothing and waits, then reads each chunk once", async () => {
    // 4 per 10 s, so 3 per window after the 95% margin: a 250-contact batch needs all 3.
    const portal = await h.addIntegration({ settings: { rateLimit: { per10s: 4 } } }, "org-tight-budget");
    const ids = await h.createContacts(Array.from({ length: 250 }, (_, i) => ({ email: `tight${i}@example.com` })), portal.portalId);
    const readsOf = async () => (await h.stats(portal.portalId)).calls.byEndpoint[BATCH_READ] ?? 0;
    const before = await readsOf();
    // Someone else took one request of this window: 2 are left, one short of the batch.
    const redis = createRedisConnection(h.config.redisUrl, { role: "worker" });
    try {
      const limiter = new PortalRateLimiter({ redis, keyPrefix: `${h.config.queuePrefix}:ratelimit` });
      expect((await limiter.acquire(`hubspot:${portal.portalId}`, { per10s: 4, kind: "standard" })).ok).toBe(true);
    } finally {
      await redis.quit();
    }

    const events = ids.map((objectId, i) => hubspotEvent({ portalId: portal.portalId, objectId, subscriptionType: "contact.creation", eventId: 50_000 + i }));
    await h.events.addBulk([0, 1, 2].map((j) => job(events.slice(j * 100, j * 100 + 100))));
    // The batch closes after the 1 s window; it must not spend the 2 requests left on reads it cannot finish.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await readsOf()).toBe(before);
    expect(await h.prisma.lead.count({ where: { orgId: "org-tight-budget" } })).toBe(0);

    // Once the other request leaves the window (10 s), the batch gets all 3 and reads each chunk exactly once.
    await eventually(async () => (await h.prisma.lead.count({ where: { orgId: "org-tight-budget" } })) === 250, { what: "250 leads", timeoutMs: 20_000 });
    expect((await readsOf()) - before).toBe(3);
  }, 30_000);
});

describe("idempotency across worker processes", () => {
  it("the same events in different jobs on two worker sets are applied and counted once", async () => {
    // A second worker set on the same queues stands in for another process (its own coalescers and caches).
    const connection = createRedisConnection(h.config.redisUrl, { role: "worker" });
    const other = startWorkers({ config: h.config, prisma: h.prisma, connection, logger: (await import("./helpers/log-capture.js")).capturingLogger().logger });
    try {
      const ids = await h.createContacts(Array.from({ length: 20 }, (_, i) => ({ email: `dup${i}@example.com` })));
      const before = await h.prisma.crmIntegration.findUniqueOrThrow({ where: { id: h.integration.id } });
      const events = ids.map((objectId, i) => hubspotEvent({ portalId: h.portalId, objectId, subscriptionType: "contact.creation", eventId: 10_000 + i }));
      // Each event arrives in 4 jobs (HubSpot redeliveries that got past the receiver's job id, e.g. re-batched).
      const jobs = [0, 1, 2, 3].flatMap((attempt) => ids.map((_, i) => job([{ ...events[i], attemptNumber: attempt }])));
      await h.events.addBulk(jobs);

      await eventually(async () => (await h.prisma.lead.count({ where: { email: { startsWith: "dup" } } })) === 20, { what: "20 leads" });
      await h.settled();
      expect(await h.prisma.lead.count({ where: { email: { startsWith: "dup" } } })).toBe(20);
      expect(await h.prisma.leadCrmLink.count({ where: { externalId: { in: ids } } })).toBe(20);
      const after = await h.prisma.crmIntegration.findUniqueOrThrow({ where: { id: h.integration.id } });
      expect(after.webhookTotalReceived - before.webhookTotalReceived).toBe(20n);
      expect((await h.events.getFailed()).length).toBe(0);
    } finally {
      await other.close();
      connection.disconnect();
    }
  });
});
