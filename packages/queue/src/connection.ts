import { Redis, type RedisOptions } from "ioredis";

/**
 * Redis connections for BullMQ, by role:
 * - "worker": blocking commands must wait through outages, so `maxRetriesPerRequest: null` (BullMQ requires it).
 * - "producer": must FAIL FAST while Redis is down, so the receiver answers 503 (HubSpot retries) instead of
 *   holding the request past HubSpot's 5 s: no offline queue, one retry per command, a short connect timeout.
 * Both reconnect forever in the background.
 */
export type RedisRole = "producer" | "worker";

export interface RedisConnectionOptions {
  role: RedisRole;
  /** Shown by `CLIENT LIST`; helps operators tell processes apart. */
  connectionName?: string;
}

/** How long a producer waits for the TCP + handshake before giving up on this attempt. */
const PRODUCER_CONNECT_TIMEOUT_MS = 2_000;
/** Reconnect back-off: grows with each attempt, capped so a recovered Redis is picked up within seconds. */
const MAX_RECONNECT_DELAY_MS = 2_000;

export function createRedisConnection(url: string, options: RedisConnectionOptions): Redis {
  const common: RedisOptions = {
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
  };
  const byRole: RedisOptions =
    options.role === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: PRODUCER_CONNECT_TIMEOUT_MS };
  return new Redis(url, { ...common, ...byRole });
}
