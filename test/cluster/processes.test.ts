import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../packages/config/src/index.js";
import { layoutFromConfig } from "../../packages/queue/src/index.js";
import { duplicatesOf, startFaultPipeline, type FaultPipeline } from "../faults/support/fault-pipeline.js";
import { jsonLines, runCli } from "../faults/support/processes.js";
import { freePort } from "../helpers/ports.js";
import { startRedisCluster, type RedisCluster } from "../helpers/redis-cluster.js";

// The fault suite's Redis cases with the real processes (receiver, worker, API) configured for a Redis Cluster by
// REDIS_CLUSTER_NODES alone: a master killed mid-traffic, then the whole cluster hanging. HubSpot's redelivery (the
// sandbox's) carries what was refused; in the end every contact is one lead and no delivery failed for good.

let cluster: RedisCluster;
let world: FaultPipeline;

const people = (tag: string, count: number) => Array.from({ length: count }, (_, i) => ({ email: `${tag}-${i}@cluster.example`, firstname: `${tag}${i}` }));

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1_000 });
  world = await startFaultPipeline({
    env: { REDIS_CLUSTER_NODES: cluster.nodesEnv, QUEUE_SHARDS: "6", REDIS_WAIT_REPLICAS: "1", BULL_BOARD_USER: "ops", BULL_BOARD_PASSWORD: "secret" },
    webhookRetryDelaysMs: [200, 500, 1000, 2000, 3000, 5000, 8000, 13000],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
  await cluster?.stop();
});

async function expectEveryLeadOnce(contacts: { email: string; firstname: string }[]) {
  const leads = await world.leads();
  for (const c of contacts) expect(leads.get(c.email), c.email).toMatchObject({ firstName: c.firstname, rows: 1 });
  expect(duplicatesOf(leads)).toBe(0);
}

async function webhookStats() {
  return (await (await fetch(`${world.sandbox.url}/__sandbox/portals/${world.portalId}/stats`)).json()) as { webhooks: { failed: number; delivered: number } };
}

describe("LeadSync's processes on a Redis Cluster", () => {
  it("a master killed mid-traffic: acknowledged jobs survive on its replica, refused deliveries come again, all apply once", async () => {
    const receiver = await world.start("receiver");
    const worker = await world.startWorker();
    expect(jsonLines(worker).find((l) => l["msg"] === "Workers started")).toMatchObject({ shards: 6 });

    const before = people("before", 10);
    await world.createContacts(before);
    await world.settled(30_000);

    const config = loadConfig({ ...world.env, NODE_ENV: "test" });
    const master = await cluster.masterOf(`${layoutFromConfig(config).prefix}:${world.events.name}:wait`);
    const during = people("during", 20);
    const creating = (async () => {
      for (const person of during) {
        await world.createContacts([person]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cluster.killNode(master.port);
    await cluster.waitForFailover(master.port, 30_000);
    await creating;
    // Its slots' new master has no replica left to WAIT for until the old one rejoins (as a replica): 503s meanwhile.
    await cluster.restartNode(master.port);
    await world.settled(90_000);

    expect((await webhookStats()).webhooks.failed).toBe(0);
    await expectEveryLeadOnce([...before, ...during]);
    expect(receiver.lines.some((line) => line.includes("could not queue webhook batch"))).toBe(true);
  }, 180_000);

  it("the whole cluster hanging: the receiver answers 503 and /ready says why; everything drains when it returns", async () => {
    const ready = await fetch(`${world.receiverUrl}/ready`);
    expect(ready.status).toBe(200);
    const topology = await cluster.topology();
    for (const node of topology) cluster.pauseNode(node.port);
    const hung = people("hung", 5);
    try {
      await world.createContacts(hung);
      const notReady = await fetch(`${world.receiverUrl}/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ success: false, error: { code: "not_ready", message: expect.stringMatching(/Redis/) } });
      const started = Date.now();
      const refused = await world.post([{ eventId: 1, subscriptionId: 1, portalId: world.portalId, appId: 1, occurredAt: Date.now(), subscriptionType: "contact.creation", attemptNumber: 0, objectId: 1, changeSource: "CRM_UI" }]);
      expect(refused.status).toBe(503);
      // Inside HubSpot's 5 s: the CRM is told to retry rather than left waiting.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const node of topology) cluster.resumeNode(node.port);
    }
    await world.settled(90_000);
    expect((await webhookStats()).webhooks.failed).toBe(0);
    await expectEveryLeadOnce(hung);
  }, 180_000);

  it("`pnpm cli replay` searches every shard and lane of the cluster", async () => {
    const { code, output } = await runCli(["replay", "--integration", world.integration.id, "--dry-run"], world.env);
    expect(code, output).toBe(0);
    // Nothing failed for good above, on any shard.
    expect(output).toMatch(/Would replay 0 inbound and 0 outbound failed job\(s\)/);
  }, 60_000);

  it("the API's Bull Board lists every shard and lane, read from the cluster", async () => {
    const port = await freePort();
    await world.start("api", { PORT: String(port) });
    const response = await fetch(`http://127.0.0.1:${port}/admin/queues/api/queues`, { headers: { authorization: `Basic ${Buffer.from("ops:secret").toString("base64")}` } });
    expect(response.status).toBe(200);
    const names = ((await response.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    // crm-changes and crm-outbound: 6 shards × 2 lanes each; crm-sync: one.
    expect(names.filter((n) => n.startsWith("crm-changes"))).toHaveLength(12);
    expect(names.filter((n) => n.startsWith("crm-outbound"))).toHaveLength(12);
    expect(names.filter((n) => n.startsWith("crm-sync"))).toHaveLength(1);
  }, 60_000);
});
