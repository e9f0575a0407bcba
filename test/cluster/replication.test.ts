import { randomBytes } from "node:crypto";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { NotReplicatedError, waitForReplicas } from "../../packages/queue/src/index.js";
import { masterOfKey, parseNodesEnv, startRedisCluster, type ClusterNodeAddress, type RedisCluster } from "../helpers/redis-cluster.js";

const run = randomBytes(4).toString("hex");

function clusterClient(nodes: ClusterNodeAddress[]): Cluster {
  const cluster = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  cluster.on("error", () => undefined);
  return cluster;
}

/** One key per master: keys with hash tags `{t0}`, `{t1}`, … until every master has one. */
async function keyPerMaster(nodes: ClusterNodeAddress[], masters: number): Promise<Map<number, string>> {
  const keys = new Map<number, string>();
  for (let tag = 0; keys.size < masters && tag < 100; tag++) {
    const key = `replication-${run}:{t${tag}}`;
    const { port } = await masterOfKey(nodes, key);
    if (!keys.has(port)) keys.set(port, key);
  }
  return keys;
}

describe("waitForReplicas on the shared cluster", () => {
  const nodes = parseNodesEnv(inject("redisClusterNodes"));
  let client: Cluster;
  beforeAll(() => {
    client = clusterClient(nodes);
  });
  afterAll(() => client.quit());

  it("confirms a write on each of the three masters once its replica has it", async () => {
    const keys = await keyPerMaster(nodes, 3);
    expect(keys.size).toBe(3);
    for (const key of keys.values()) {
      await client.set(key, "x", "EX", 60);
      expect(await waitForReplicas(client, key, 1, 2_000)).toBe(1);
    }
  });
});

describe("waitForReplicas with a lagging replica (own cluster: 2 masters, a replica each)", () => {
  let cluster: RedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 2, replicasPerMaster: 1 });
    client = clusterClient(cluster.nodes);
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it("waits on the master of the key's slot, over the connection that wrote, and fails when its replica lags", async () => {
    const [[laggingPort, laggingKey] = [0, ""], [healthyPort, healthyKey] = [0, ""]] = [...(await keyPerMaster(cluster.nodes, 2))];
    const replica = (await cluster.topology()).find((node) => node.masterPort === laggingPort);
    if (!replica || !healthyPort) throw new Error("unexpected layout");

    // Another connection to the same master, last used before the write (as a pooled one would be).
    const other = new Redis(laggingPort, "127.0.0.1");
    await other.ping();
    cluster.pauseNode(replica.port); // still connected, but acknowledges nothing more
    try {
      await client.set(laggingKey, "x");
      const refused = waitForReplicas(client, laggingKey, 1, 300);
      await expect(refused).rejects.toBeInstanceOf(NotReplicatedError);
      await expect(refused).rejects.toMatchObject({ acknowledged: 0, required: 1, node: `127.0.0.1:${laggingPort}` });

      // WAIT over the other connection says yes: it waits for that connection's own past, not for the write.
      expect(await other.wait(1, 300)).toBe(1);

      // The other master's replica is fine: writes there are confirmed meanwhile.
      await client.set(healthyKey, "x");
      expect(await waitForReplicas(client, healthyKey, 1, 2_000)).toBe(1);
    } finally {
      cluster.resumeNode(replica.port);
      other.disconnect();
    }
    expect(await waitForReplicas(client, laggingKey, 1, 5_000)).toBe(1);
  });
});
