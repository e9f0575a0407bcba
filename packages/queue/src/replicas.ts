import { Cluster } from "ioredis";
import calculateSlot from "cluster-key-slot";
import type { RedisClient } from "./connection.js";
import type { QueueName } from "./jobs.js";
import type { TypedQueue } from "./queues.js";

/** Fewer replicas than asked for confirmed a write in time: the caller must not acknowledge it. */
export class ReplicationTimeoutError extends Error {
  constructor(readonly wanted: number, readonly confirmed: number, readonly timeoutMs: number) {
    super(`${confirmed} of ${wanted} Redis replica(s) confirmed the job within ${timeoutMs} ms`);
    this.name = "ReplicationTimeoutError";
  }
}

/**
 * Waits until `count` replicas hold every write the queue's connection made so far (Redis WAIT), on the master that
 * owns the queue's slot. A job acknowledged after this survives its master failing over: Redis replicates
 * asynchronously, and the replica that replaces a dead master has what WAIT confirmed.
 */
export async function waitForReplicas<Q extends QueueName>(queue: TypedQueue<Q>, count: number, timeoutMs: number): Promise<void> {
  // A queue made on one of our connections uses it as is (BullMQ duplicates connections only for workers' blocking reads).
  const client = (await queue.client) as unknown as RedisClient;
  const node = client instanceof Cluster ? masterOfKey(client, queue.toKey("wait")) : client;
  const confirmed = Number(await node.wait(count, timeoutMs));
  if (confirmed < count) throw new ReplicationTimeoutError(count, confirmed, timeoutMs);
}

/** The connection to the master that owns `key`'s slot, as the cluster client last learnt it. */
function masterOfKey(cluster: Cluster, key: string) {
  const address = cluster.slots[calculateSlot(key)]?.[0];
  const master = cluster.nodes("master").find((node) => `${node.options.host}:${node.options.port}` === address);
  if (!master) throw new Error(`no known master for ${key} (slot owner ${address ?? "unknown"})`);
  return master;
}
