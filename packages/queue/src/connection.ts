import type { RedisTarget } from "@leadsync/config";
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

/**
 * Redis connections for BullMQ, by role:
 * - "worker": blocking commands must wait through outages, so `maxRetriesPerRequest: null` (BullMQ requires it).
 * - "producer": must FAIL FAST while Redis is down, so the receiver answers 503 (HubSpot retries) instead of
 *   holding the request past HubSpot's 5 s: no offline queue, one retry per command, a short connect timeout.
 * Both reconnect forever in the background. On a Redis Cluster (`RedisTarget.clusterNodes`) the same roles hold
 * for ioredis' Cluster client, which follows MOVED/ASK redirections and a failover's new masters.
 */
export type RedisRole = "producer" | "worker";

/** One Redis server or a Redis Cluster: both speak the same commands to BullMQ and to our scripts. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  role: RedisRole;
  /** Shown by `CLIENT LIST`; helps operators tell processes apart. */
  connectionName?: string;
}

/** How long a producer waits for the TCP + handshake before giving up on this attempt. */
const PRODUCER_CONNECT_TIMEOUT_MS = 2_000;
/** Reconnect back-off: grows with each attempt, capped so a recovered Redis is picked up within seconds. */
const MAX_RECONNECT_DELAY_MS = 2_000;
/**
 * While a master fails over its slots answer CLUSTERDOWN or refuse connections for about the cluster's node timeout;
 * a producer retries that long (16 redirections × this delay) before the receiver answers 503.
 */
const CLUSTER_RETRY_DELAY_MS = 150;

/** `target`: a `redis://` URL (tests, one server) or the configuration's RedisTarget (cluster when it has nodes). */
export function createRedisConnection(target: string | RedisTarget, options: RedisConnectionOptions): RedisClient {
  const common: RedisOptions = {
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
  };
  const byRole: RedisOptions =
    options.role === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: PRODUCER_CONNECT_TIMEOUT_MS };
  const url = typeof target === "string" ? target : target.url;
  const nodes = typeof target === "string" ? undefined : target.clusterNodes;
  if (!nodes || nodes.length === 0) return new Redis(url, { ...common, ...byRole });

  const { enableOfflineQueue, ...nodeOptions } = byRole;
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...common, ...nodeOptions },
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    retryDelayOnFailover: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnClusterDown: CLUSTER_RETRY_DELAY_MS,
    retryDelayOnTryAgain: CLUSTER_RETRY_DELAY_MS,
    // A producer's command must fail rather than wait for a cluster that is not ready (same as one server).
    enableOfflineQueue: enableOfflineQueue ?? true,
    // Every command goes to its slot's master: BullMQ's scripts write, and reads must see those writes.
    scaleReads: "master",
  };
  return new Cluster(
    nodes.map((node) => ({ host: node.host, port: node.port })),
    clusterOptions,
  );
}

/** Whether `client` talks to a Redis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
