import { randomBytes } from "node:crypto";
import { connect } from "node:net";

/**
 * Redis fixtures for tests: every test gets its own BullMQ prefix and deletes only that prefix's keys.
 * Never FLUSHALL/FLUSHDB: `pnpm start` and other test files share this Redis.
 */

/** A unique BullMQ prefix such as `{test-3f9a1c2b7d4e}`: the hash tag keeps its keys in one Cluster slot. */
export function uniqueQueuePrefix(): string {
  return `{test-${randomBytes(6).toString("hex")}}`;
}

/** The two commands `cleanupPrefix` needs; an ioredis `Redis` fits. */
export interface ScanningRedis {
  scan(cursor: string, matchToken: "MATCH", pattern: string, countToken: "COUNT", count: number): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
}

// SCAN's MATCH is a glob: the braces of a hash tag are literal, but *, ?, [ and \ must be escaped.
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** Deletes every key under `prefix` (e.g. `{test-…}:queue:…`) with SCAN + UNLINK. Returns how many keys it deleted. */
export async function cleanupPrefix(redis: ScanningRedis, prefix: string): Promise<number> {
  if (!prefix.startsWith("{test-")) {
    throw new Error(`cleanupPrefix only deletes test prefixes ({test-…}), not ${JSON.stringify(prefix)}`);
  }
  // Keys that carry their own hash tags drop the prefix's braces (`test-…:ratelimit:{portal}`, sharded queues'
  // `test-…:crm-changes-{s0-…}`) or open their tag with it (`{test-…:ratelimit:hubspot:…}`).
  const bare = prefix.slice(1, -1);
  let deleted = 0;
  for (const pattern of [`${escapeGlob(prefix)}*`, `${escapeGlob(bare)}:*`, `{${escapeGlob(bare)}:*`]) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      // One key per UNLINK: on a cluster node the keys of one page belong to many slots.
      if (keys.length > 0) deleted += (await Promise.all(keys.map((key) => redis.unlink(key)))).reduce((a, b) => a + b, 0);
      cursor = next;
    } while (cursor !== "0");
  }
  return deleted;
}

/** A client that may be a Redis Cluster's (ioredis' Cluster: `isCluster`, its masters by `nodes`). */
export interface MaybeClusterRedis extends ScanningRedis {
  isCluster?: boolean;
  nodes?: (role: "master") => (ScanningRedis & { status?: string })[];
}

/** `cleanupPrefix` on one Redis, or on every master of a cluster (its keys live on the masters); errors ignored. */
export async function cleanupPrefixEverywhere(client: MaybeClusterRedis, prefix: string): Promise<void> {
  const nodes = client.isCluster && client.nodes ? client.nodes("master") : [client];
  for (const node of nodes) await cleanupPrefix(node, prefix).catch(() => undefined);
}

/** PING over a bare socket (no client library needed): resolves when Redis answers, rejects naming the URL otherwise. */
export async function assertRedisReachable(redisUrl: string, timeoutMs = 3000): Promise<void> {
  const url = new URL(redisUrl);
  const host = url.hostname || "127.0.0.1";
  const port = Number(url.port || 6379);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(`Cannot reach Redis at redis://${host}:${port} (${reason}). Start it (docker compose up -d) or set REDIS_URL.`));
    };
    socket.setTimeout(timeoutMs, () => fail("timed out"));
    socket.once("error", (error) => fail(error.message));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.end();
      const reply = data.toString("utf8");
      // -NOAUTH still proves a Redis server answers; the clients under test authenticate with the URL.
      if (reply.startsWith("+PONG") || reply.startsWith("-NOAUTH")) resolve();
      else fail(`unexpected reply ${JSON.stringify(reply.trim())}`);
    });
  });
}
