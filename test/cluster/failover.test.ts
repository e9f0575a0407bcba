import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layoutFromConfig } from "../../packages/queue/src/index.js";
import { eventually, hubspotEvent, startHarness, type Harness } from "../e2e/harness.js";
import { startRedisCluster, type RedisCluster } from "../helpers/redis-cluster.js";

// A master of the cluster dies (SIGKILL) while HubSpot keeps delivering: with REDIS_WAIT_REPLICAS=1 the receiver
// answers 200 only once a replica holds the job, so every delivery it acknowledged becomes a lead after the replica
// takes over; what it refused (503 while the slot had no master) HubSpot delivers again, and then it applies once.

let cluster: RedisCluster;
let h: Harness;

beforeAll(async () => {
  // Two replicas per master: after a failover the new master still has a replica to WAIT for.
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 2, nodeTimeoutMs: 1_000 });
  h = await startHarness({ queues: { clusterNodes: cluster.nodesEnv, shards: 6, waitReplicas: 1 } });
  // This test delivers the webhooks itself, recording each answer; the sandbox's own deliveries are dropped.
  await h.fault({ kind: "drop_webhooks" });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await cluster?.stop();
});

interface Delivery {
  email: string;
  contactId: string;
  status: number;
}

describe("a master failing over under webhook traffic", () => {
  it("answers 503, not 200, while no replica confirms the job (REDIS_WAIT_REPLICAS=1)", async () => {
    const layout = layoutFromConfig(h.config);
    const master = await cluster.masterOf(`${layout.prefix}:${h.events.name}:wait`);
    const replicas = (await cluster.topology()).filter((node) => node.role === "replica" && node.masterPort === master.port);
    expect(replicas.length).toBe(2);
    const [contactId] = await h.createContacts([{ email: "unreplicated@cluster.example" }]);
    const event = hubspotEvent({ portalId: h.portalId, objectId: contactId as string, subscriptionType: "contact.creation" });
    for (const replica of replicas) cluster.pauseNode(replica.port);
    try {
      expect(await h.postWebhook([event])).toBe(503);
    } finally {
      for (const replica of replicas) cluster.resumeNode(replica.port);
    }
    // HubSpot's retry: replicated now, so acknowledged and applied (once: the first attempt's job, if it ran, is the same).
    await eventually(async () => (await h.postWebhook([event])) === 200 || undefined, { what: "a 200 after the replicas resume", timeoutMs: 20_000 });
    await eventually(async () => (await h.prisma.lead.count({ where: { email: "unreplicated@cluster.example" } })) === 1 || undefined, { what: "the lead" });
  }, 60_000);

  it("loses no acknowledged webhook, and what was refused applies once when redelivered", async () => {
    const layout = layoutFromConfig(h.config);
    const master = await cluster.masterOf(`${layout.prefix}:${h.events.name}:wait`);
    const deliveries: Delivery[] = [];
    const deliver = async (i: number) => {
      const email = `failover-${i}@cluster.example`;
      const [contactId] = await h.createContacts([{ email, firstname: `F${i}` }]);
      const status = await h.postWebhook([hubspotEvent({ portalId: h.portalId, objectId: contactId as string, subscriptionType: "contact.creation" })]);
      deliveries.push({ email, contactId: contactId as string, status });
    };

    let next = 0;
    for (; next < 20; next++) await deliver(next);
    await cluster.killNode(master.port);
    const killedAt = Date.now();
    const failover = cluster.waitForFailover(master.port, 30_000);
    let promotedAt: number | undefined;
    void failover.then(() => (promotedAt = Date.now()));
    // Four deliveries at a time, as HubSpot sends them, through the failover and a second after it.
    const stream = async () => {
      while (promotedAt === undefined || Date.now() < promotedAt + 1_000) await deliver(next++);
    };
    await Promise.all([stream(), stream(), stream(), stream()]);
    expect(await failover).not.toBe(master.port);
    const duringFailover = deliveries.length - 20;
    expect(duringFailover).toBeGreaterThan(4);

    const acknowledged = deliveries.filter((d) => d.status === 200);
    const refused = deliveries.filter((d) => d.status !== 200);
    expect(refused.every((d) => d.status === 503)).toBe(true);
    expect(acknowledged.length).toBeGreaterThan(20);
    const leadOf = async (email: string) => h.prisma.lead.count({ where: { orgId: h.orgId, email } });
    await eventually(async () => (await Promise.all(acknowledged.map((d) => leadOf(d.email)))).every((n) => n === 1), {
      what: "a lead for every acknowledged delivery",
      timeoutMs: 60_000,
    });

    // HubSpot's retries of the refused ones: accepted now, applied once.
    for (const d of refused) {
      const status = await h.postWebhook([hubspotEvent({ portalId: h.portalId, objectId: d.contactId, subscriptionType: "contact.creation" })]);
      expect(status).toBe(200);
    }
    await eventually(async () => (await Promise.all(deliveries.map((d) => leadOf(d.email)))).every((n) => n === 1), {
      what: "a lead for every delivery",
      timeoutMs: 60_000,
    });
    console.log(
      `failover in ${(promotedAt ?? Date.now()) - killedAt} ms: ${deliveries.length} deliveries, ${acknowledged.length} acknowledged, ` +
        `${refused.length} refused (503) while the slot had no master`,
    );
  }, 180_000);
});
