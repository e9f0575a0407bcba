import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { Queue, Worker } from "bullmq";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { waitForReplicas } from "../../packages/queue/src/index.js";
import { until } from "../helpers/ports.js";
import { masterOfKey, parseNodesEnv, startRedisCluster, type ClusterNodeAddress, type RedisCluster } from "../helpers/redis-cluster.js";

/** The shared cluster of this vitest project (test/cluster/global-setup.ts): 3 masters, a replica each. */
const shared = parseNodesEnv(inject("redisClusterNodes"));

/** Producer side: fail a command after one retry instead of queueing it for long. */
function producerCluster(nodes: ClusterNodeAddress[]): Cluster {
  const cluster = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  cluster.on("error", () => undefined); // node errors also surface on the commands; the tests check those
  return cluster;
}
/** BullMQ refuses a Worker whose Cluster has `redisOptions.maxRetriesPerRequest` set: blocking commands wait forever. */
function workerCluster(nodes: ClusterNodeAddress[]): Cluster {
  const cluster = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } });
  cluster.on("error", () => undefined);
  return cluster;
}

/**
 * Until the client loaded the slot map. Not `cluster.cluster("INFO")`: ioredis sends CLUSTER commands at once, even
 * before it is ready, to a startup node it may drop a moment later ("Connection is closed").
 */
async function ready(cluster: Cluster): Promise<void> {
  if (cluster.status !== "ready") await once(cluster, "ready");
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("the shared cluster", () => {
  let client: Cluster;
  const run = randomBytes(4).toString("hex");

  beforeAll(() => {
    client = producerCluster(shared);
  });
  afterAll(async () => {
    await client.quit();
  });

  it("has three masters serving every slot, and its keys spread over all of them", async () => {
    await ready(client);
    expect(client.nodes("master")).toHaveLength(3);
    expect(await client.cluster("INFO")).toContain("cluster_state:ok");

    const keys = Array.from({ length: 30 }, (_, index) => `harness-${run}:key-${index}`);
    for (const key of keys) await client.set(key, `value of ${key}`, "EX", 60);
    const owners = await Promise.all(keys.map((key) => masterOfKey(shared, key)));
    expect(new Set(owners.map((owner) => owner.port)).size).toBe(3);

    // Each key is where masterOfKey says: that node answers a plain GET for it (another master would answer MOVED).
    for (const [index, key] of keys.entries()) {
      const owner = owners[index];
      if (!owner) throw new Error("no owner");
      const direct = new Redis(owner.port, owner.host, { lazyConnect: true });
      try {
        expect(await direct.get(key)).toBe(`value of ${key}`);
      } finally {
        direct.disconnect();
      }
    }
    const other = owners.find((owner) => owner.port !== owners[0]?.port);
    const wrong = new Redis(other?.port ?? 0, "127.0.0.1", { lazyConnect: true });
    await expect(wrong.get(keys[0] ?? "")).rejects.toThrow(/MOVED/);
    wrong.disconnect();
    // Keys of different slots cannot be deleted together (CROSSSLOT): one DEL per key.
    await Promise.all(keys.map((key) => client.del(key)));
  });

  it("runs BullMQ queues sharded by a hash tag in the queue name, under a plain prefix", async () => {
    const prefix = `leadsync-test-${run}`;
    const names = ["crm-changes-{s1}", "crm-changes-{s2}", "crm-changes-{s3}", "crm-changes-{s4}"];
    const shardMasters = await Promise.all(names.map((name) => masterOfKey(shared, `${prefix}:${name}:wait`)));
    expect(new Set(shardMasters.map((master) => master.port)).size).toBeGreaterThan(1);
    await expectJobsProcessed(prefix, names);
  });

  it("runs a BullMQ queue with a plain name under a hash-tagged prefix", async () => {
    await expectJobsProcessed(`{leadsync-test-${run}}`, ["crm-changes"]);
  });

  it("refuses a BullMQ queue whose keys have no common hash tag (CROSSSLOT)", async () => {
    const queue = new Queue("crm-changes", { connection: client, prefix: `leadsync-test-${run}-untagged` });
    queue.on("error", () => undefined);
    try {
      await expect(queue.add("crm-changes", { n: 1 })).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await queue.close();
    }
  });

  /** Adds 5 jobs to each queue and waits until a worker per queue completed them all with their own result. */
  async function expectJobsProcessed(prefix: string, names: string[]) {
    const workerConnection = workerCluster(shared);
    const queues = names.map((name) => new Queue(name, { connection: client, prefix }));
    const workers = names.map((name) => new Worker(name, async (job) => `done ${name} ${job.data.n}`, { connection: workerConnection, prefix }));
    for (const worker of workers) worker.on("error", () => undefined);
    try {
      for (const queue of queues) {
        for (let n = 0; n < 5; n++) await queue.add("crm-changes", { n }, { jobId: `job-${n}` });
        // Every key of the queue is in the slot of its hash tag, on one master.
        const [wait, job] = await Promise.all([masterOfKey(shared, `${prefix}:${queue.name}:wait`), masterOfKey(shared, `${prefix}:${queue.name}:job-0`)]);
        expect(job).toEqual(wait);
      }
      for (const queue of queues) {
        await until(async () => (await queue.getCompletedCount()) === 5, `5 completed jobs in ${queue.name}`, 15_000);
        const results = (await queue.getCompleted()).map((job) => job.returnvalue as string).sort();
        expect(results).toEqual([0, 1, 2, 3, 4].map((n) => `done ${queue.name} ${n}`));
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all(queues.map(async (queue) => queue.obliterate({ force: true }).finally(() => queue.close())));
      await workerConnection.quit();
    }
  }
});

describe("a master failing over (own cluster: 3 masters, a replica each)", () => {
  let cluster: RedisCluster;
  let producer: Cluster;
  let workerConnection: Cluster;
  let queue: Queue;
  let worker: Worker;
  const prefix = `{failover-${randomBytes(4).toString("hex")}}`;
  const processed = new Set<string>();

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    producer = producerCluster(cluster.nodes);
    workerConnection = workerCluster(cluster.nodes);
    queue = new Queue("crm-changes", { connection: producer, prefix });
    queue.on("error", () => undefined);
    worker = new Worker("crm-changes", async (job) => void processed.add(job.id ?? ""), { connection: workerConnection, prefix });
    worker.on("error", () => undefined); // the worker's connection errors while its master is down
  });
  afterAll(async () => {
    await worker?.close(true);
    await queue?.close();
    producer?.disconnect();
    workerConnection?.disconnect();
    await cluster?.stop();
  });

  /** Adds a job and acknowledges it the way the app will: once a replica of its master has it (WAIT 1). */
  async function addAcknowledged(id: string): Promise<void> {
    const job = await queue.add("crm-changes", { id }, { jobId: id });
    expect(await waitForReplicas(producer, `${prefix}:crm-changes:${job.id}`, 1, 2_000)).toBe(1);
  }

  it("loses no acknowledged job: the replica takes over the slot with every job, and the old master rejoins as its replica", async () => {
    const acknowledged = Array.from({ length: 20 }, (_, index) => `before-${index}`);
    for (const id of acknowledged) await addAcknowledged(id);

    const master = await cluster.masterOf(`${prefix}:crm-changes:wait`);
    const replica = (await cluster.topology()).find((node) => node.masterPort === master.port);
    await cluster.killNode(master.port);
    const promoted = await cluster.waitForFailover(master.port);
    expect(promoted).toBe(replica?.port);
    expect(await cluster.masterOf(`${prefix}:crm-changes:wait`)).toEqual({ host: "127.0.0.1", port: promoted });

    // The producer finds the new master by itself (its commands fail while the old one is gone, then MOVED/refresh).
    for (const id of acknowledged) {
      const job = await until(() => queue.getJob(id), `job ${id} after the failover`, 10_000);
      expect(job.data).toEqual({ id });
    }

    // With its only replica gone the shard can't acknowledge durably: WAIT 1 times out until the old master is back.
    await expect(waitForReplicas(producer, `${prefix}:crm-changes:wait`, 1, 200)).rejects.toThrow(/0 of 1 replicas/);
    await cluster.restartNode(master.port);
    expect((await cluster.topology()).find((node) => node.port === master.port)).toEqual({
      port: master.port,
      role: "replica",
      masterPort: promoted,
      slots: [],
    });
    const after = Array.from({ length: 5 }, (_, index) => `after-${index}`);
    for (const id of after) await addAcknowledged(id);

    // The worker, running all along, has processed every acknowledged job (some twice, maybe: at least once).
    await until(async () => [...acknowledged, ...after].every((id) => processed.has(id)), "every acknowledged job processed", 20_000);
  });

  it("leaves no redis-server and no directory behind after stop()", async () => {
    await worker.close(true);
    await queue.close();
    producer.disconnect();
    workerConnection.disconnect();
    await cluster.stop();
    for (const node of cluster.nodes) expect(await accepts(node.port)).toBe(false);
  });
});

describe("a test process killed outright (SIGKILL, no exit hook)", () => {
  it("takes its cluster's nodes and temp dir with it (the watchdog)", async () => {
    // A child process that starts a one-master cluster, prints its ports, and waits to be killed.
    const script = `
      import { startRedisCluster } from "./test/helpers/redis-cluster.ts";
      const cluster = await startRedisCluster({ masters: 1 });
      console.log(JSON.stringify(cluster.nodes.map((node) => node.port)));
      setInterval(() => undefined, 1000);
    `;
    const tmp = await mkdtemp(join(tmpdir(), "leadsync-watchdog-test-"));
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: new URL("../../", import.meta.url),
      env: { ...process.env, TMPDIR: tmp },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout?.once("data", (data: Buffer) => resolve(data.toString()));
        child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
      });
      const [port = 0] = JSON.parse(line) as number[];
      expect(await accepts(port)).toBe(true);
      child.kill("SIGKILL");
      await until(async () => !(await accepts(port)), "the orphaned node to be killed", 5_000);
      const clusterDirs = async () => (await readdir(tmp)).filter((name) => name.startsWith("leadsync-redis-cluster-"));
      await until(async () => (await clusterDirs()).length === 0, "its temp dir to be deleted", 5_000);
    } finally {
      child.kill("SIGKILL");
      await rm(tmp, { recursive: true, force: true }); // with tsx's cache, which the child kept in TMPDIR
    }
  });
});
