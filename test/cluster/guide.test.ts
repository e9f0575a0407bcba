import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { isCluster, layoutFromConfig, QUEUES } from "../../packages/queue/src/index.js";
import { eventually, startHarness, type Harness } from "../e2e/harness.js";
import { masterOfKey, parseNodesEnv } from "../helpers/redis-cluster.js";

// The setup guide's checks with every process on a three-master Redis Cluster (REDIS_CLUSTER_NODES): the receiver,
// the workers, the limiter and the token locks go through ioredis' Cluster client, and the queues are six hash-tagged
// shards, so the work of many portals lands on every master.

const SHARDS = 6;
const nodes = inject("redisClusterNodes");
let h: Harness;
/** Portals besides the main one, for the spread. */
const portals: number[] = [];

beforeAll(async () => {
  h = await startHarness({ queues: { clusterNodes: nodes, shards: SHARDS } });
  for (let i = 0; i < 5; i++) portals.push((await h.addIntegration()).portalId);
});
afterAll(async () => h?.close());

const leadByEmail = (email: string) => h.prisma.lead.findFirst({ where: { email }, include: { links: true } });

describe("the setup guide on a Redis Cluster", () => {
  it("runs on the cluster client, with shards whose hash tags spread over the three masters", async () => {
    expect(isCluster(h.connection)).toBe(true);
    const layout = layoutFromConfig(h.config);
    const owners = await Promise.all(layout.queuesOf(QUEUES.crmChanges).map((q) => masterOfKey(parseNodesEnv(nodes), `${layout.prefix}:${q.name}:wait`)));
    expect(new Set(owners.map((o) => o.port)).size).toBe(3);
  });

  it("Test 2: a contact created in HubSpot appears as a lead", async () => {
    const [contactId] = await h.createContacts([{ email: "cluster-grace@example.com", firstname: "Grace", lastname: "Hopper" }]);
    const lead = await eventually(async () => (await leadByEmail("cluster-grace@example.com")) ?? undefined, { what: "the lead" });
    expect(lead).toMatchObject({ firstName: "Grace", source: "hubspot" });
    expect(lead.links.map((l) => l.externalId)).toEqual([contactId]);
  });

  it("Test 1: a contact our platform created makes no lead (the marker), its neighbour does", async () => {
    const [own] = await h.createContacts([
      { email: "cluster-ours@example.com", lead_source_system: "jazzaam" },
      { email: "cluster-after@example.com", firstname: "After" },
    ]);
    await eventually(async () => (await leadByEmail("cluster-after@example.com")) ?? undefined, { what: "the control lead" });
    await eventually(async () => h.logs.some((l) => l.msg === `Skipping contact ${own} - originated from our platform`), { what: "the skip log" });
    expect(await leadByEmail("cluster-ours@example.com")).toBeNull();
  });

  it("Test 3: a platform lead is pushed to HubSpot marked as ours, and its echo creates no second lead", async () => {
    const lead = await h.createPlatformLead({ email: "cluster-out@example.com", firstName: "Out" });
    await h.enqueueOutbound(lead.id);
    const link = await eventually(async () => (await h.prisma.leadCrmLink.findFirst({ where: { leadId: lead.id } })) ?? undefined, { what: "the link" });
    expect((await h.getContact(link.externalId)).properties["lead_source_system"]).toBe("jazzaam");
    await h.settled();
    expect(await h.prisma.lead.count({ where: { email: "cluster-out@example.com" } })).toBe(1);
  });

  it("many portals' work lands on every master: queue keys and each portal's limiter keys", async () => {
    await Promise.all(portals.map((portalId, i) => h.createContacts([{ email: `spread-${i}@cluster.example`, firstname: `P${i}` }], portalId)));
    await eventually(async () => (await h.prisma.lead.count({ where: { email: { startsWith: "spread-" } } })) === portals.length, { what: "every portal's lead" });
    if (!isCluster(h.connection)) throw new Error("not a cluster");
    const bare = h.config.queuePrefix.replace(/[{}]/g, "");
    const keysPerMaster = await Promise.all(
      h.connection.nodes("master").map(async (node) => {
        const [, queueKeys] = await node.scan("0", "MATCH", `${bare}:crm-changes*`, "COUNT", 10_000);
        const [, limiterKeys] = await node.scan("0", "MATCH", `${bare}:ratelimit:*`, "COUNT", 10_000);
        return { queue: queueKeys.length, limiter: limiterKeys.length };
      }),
    );
    // Six shards over three masters: every master holds queue keys; six portals' limiters are not all on one master.
    for (const counts of keysPerMaster) expect(counts.queue).toBeGreaterThan(0);
    expect(keysPerMaster.filter((counts) => counts.limiter > 0).length).toBeGreaterThan(1);
  });
});
