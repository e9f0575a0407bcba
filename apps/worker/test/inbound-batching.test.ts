import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_READ, eventually, hubspotEvent, startHarness, type Harness } from "../../../test/e2e/harness.js";
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
  return { name: "hubspot-events" as const, data: { v: 1 as const, provider: "hubspot" as const, receivedAt: Date.now(), events } };
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
