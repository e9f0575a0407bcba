import calculateSlot from "cluster-key-slot";
import type { Cluster, Redis } from "ioredis";

/**
 * Durability of an acknowledged write: Redis replicates asynchronously, so a master that dies right after answering
 * can take the write with it when its replica is promoted. `WAIT numreplicas timeout` blocks until that many replicas
 * have received everything up to *this connection's* latest command, which is why it must go to the very connection
 * that wrote: for a Cluster, its node connection to the master serving the key's slot. (WAIT on another connection
 * measures that connection's past: one last used before the write answers "replicated" at once, write or no write.)
 */
export class NotReplicatedError extends Error {
  override readonly name = "NotReplicatedError";
  constructor(
    readonly acknowledged: number,
    readonly required: number,
    /** `host:port` of the master that was asked. */
    readonly node: string,
  ) {
    super(`only ${acknowledged} of ${required} replicas of ${node} confirmed the write in time`);
  }
}

/**
 * Waits until `numReplicas` replicas hold every write this connection made to the master serving `key` (any key of
 * the write's slot, e.g. a BullMQ job key), at most `timeoutMs`. Resolves with how many confirmed; rejects with
 * NotReplicatedError when fewer did. Pass the connection the write went through: a Cluster or a single Redis (its
 * replicas, if any); for a BullMQ queue, the connection instance it was given (BullMQ writes through that very instance,
 * wrapped in a proxy).
 */
export async function waitForReplicas(connection: Redis | Cluster, key: string, numReplicas: number, timeoutMs: number): Promise<number> {
  const node = connection.isCluster ? masterConnection(connection as Cluster, key) : (connection as Redis);
  const acknowledged = await node.wait(numReplicas, timeoutMs);
  if (acknowledged < numReplicas) throw new NotReplicatedError(acknowledged, numReplicas, `${node.options.host}:${node.options.port}`);
  return acknowledged;
}

/** The Cluster's own connection to the master of `key`'s slot: the one its commands for that slot go through. */
function masterConnection(cluster: Cluster, key: string): Redis {
  const slot = calculateSlot(key);
  // `slots[slot]` lists node keys (`host:port`, after natMap), master first; ioredis updates it on every MOVED.
  const masterKey = cluster.slots[slot]?.[0];
  const node = masterKey === undefined ? undefined : cluster.nodes("master").find((redis) => `${redis.options.host}:${redis.options.port}` === masterKey);
  if (!node) throw new Error(`no connection to the master of slot ${slot} (${masterKey ?? "slots not loaded"})`);
  return node;
}
