import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layoutFromConfig } from "../../packages/queue/src/index.js";
import { eventually, startHarness, type Harness } from "./harness.js";

// The pipeline with its queues laid out as production does on a cluster (four shards, two lanes each) on one Redis:
// the guide's checks through the routed queues, accounts kept apart by shard, and a burst kept in its bulk lane.

const SHARDS = 4;
let h: Harness;
/** Portals whose accounts land on another shard than the main one's, and on the same. */
let apart: { portalId: number };
let same: { portalId: number };

beforeAll(async () => {
  h = await startHarness({ queues: { shards: SHARDS }, concurrency: 2 });
  const layout = layoutFromConfig(h.config);
  const mainShard = layout.shardOf(`hubspot:${h.portalId}`);
  const found: { apart?: { portalId: number }; same?: { portalId: number } } = {};
  while (!found.apart || !found.same) {
    const { portalId } = await h.addIntegration();
    const key = layout.shardOf(`hubspot:${portalId}`) === mainShard ? "same" : "apart";
    found[key] ??= { portalId };
  }
  ({ apart, same } = found as Required<typeof found>);
});
afterAll(async () => h?.close());

const leadByEmail = (email: string) => h.prisma.lead.findFirst({ where: { email }, include: { links: true } });

describe("queues in shards and lanes", () => {
  it("names every shard with its own hash tag and routes an account to its shard", () => {
    expect(h.eventQueues.queues.map((q) => q.name)).toHaveLength(2 * SHARDS);
    for (const queue of h.eventQueues.queues) expect(queue.name).toMatch(/^crm-changes(-bulk)?-\{s\d-\d+\}$/);
    expect(h.eventQueues.route(`hubspot:${apart.portalId}`).name).not.toBe(h.events.name);
    expect(h.eventQueues.route(`hubspot:${same.portalId}`).name).toBe(h.events.name);
  });

  it("guide Test 2: a contact created in HubSpot becomes a lead, through its portal's shard", async () => {
    const before = await h.events.getCompletedCount();
    const [contactId] = await h.createContacts([{ email: "shard-grace@example.com", firstname: "Grace" }]);
    const lead = await eventually(async () => (await leadByEmail("shard-grace@example.com")) ?? undefined, { what: "the lead" });
    expect(lead.links.map((l) => l.externalId)).toEqual([contactId]);
    expect(await h.events.getCompletedCount()).toBeGreaterThan(before);
    const received = h.logs.find((l) => l.msg === "webhook received" && (l["accounts"] as string[] | undefined)?.includes(String(h.portalId)));
    expect(received?.["queue"]).toBe(h.events.name);
  });

  it("guide Test 3: a platform lead goes to HubSpot through its integration's shard, marked as ours", async () => {
    const lead = await h.createPlatformLead({ email: "shard-out@example.com", firstName: "Out" });
    await h.enqueueOutbound(lead.id);
    const link = await eventually(async () => (await h.prisma.leadCrmLink.findFirst({ where: { leadId: lead.id } })) ?? undefined, { what: "the link" });
    const contact = await h.getContact(link.externalId);
    expect(contact.properties["lead_source_system"]).toBe("jazzaam");
    expect(await h.outbound.getCompletedCount()).toBeGreaterThan(0);
  });

  it("a burst goes to its shard's bulk lane, and a quiet portal of the same shard is applied while that backlog waits", async () => {
    // Slow every call of the busy portal, so its backlog outlasts the quiet portal's one change by far.
    await h.fault({ kind: "latency", ms: 400, count: 1_000 });
    const bulk = h.eventQueues.route(`hubspot:${h.portalId}`, "bulk");
    const normal = h.events;
    await h.createContacts(Array.from({ length: 3_000 }, (_, i) => ({ email: `burst-${i}@shard.example` })));
    // The burst's first deliveries (up to the busy threshold) are in the normal lane; the rest queue in the bulk lane.
    await eventually(async () => (await bulk.getJobCounts("waiting"))["waiting"]! > 3, { what: "a backlog in the bulk lane", timeoutMs: 20_000 });
    await eventually(
      async () => {
        const counts = await normal.getJobCounts("waiting", "active", "delayed");
        return Object.values(counts).every((n) => n === 0);
      },
      { what: "the normal lane to drain", timeoutMs: 30_000 },
    );

    // Same shard, so the same normal lane as the busy portal's first deliveries: only the lanes keep it out of the backlog.
    await h.createContacts([{ email: "quiet@shard.example", firstname: "Quiet" }], same.portalId);
    await eventually(async () => (await leadByEmail("quiet@shard.example")) ?? undefined, { what: "the quiet portal's lead", timeoutMs: 10_000 });
    const stillQueued = await bulk.getJobCounts("waiting", "active");
    expect(stillQueued["waiting"]! + stillQueued["active"]!).toBeGreaterThan(0);

    const burstLeads = () => h.prisma.lead.count({ where: { orgId: h.orgId, email: { startsWith: "burst-" } } });
    await eventually(async () => (await burstLeads()) === 3_000, { what: "every burst lead", timeoutMs: 90_000 });
    await h.settled();
    expect(await burstLeads()).toBe(3_000);
    expect(await bulk.getCompletedCount()).toBeGreaterThan(0);
  }, 120_000);
});
