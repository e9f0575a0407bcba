import { Redis } from "ioredis";
import { uniqueQueuePrefix } from "../../../test/helpers/redis.js";

export const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";

/**
 * A Redis connection and a key prefix no other test uses, shaped like the app's (`{test-…}:ratelimit`, as the app
 * passes `${QUEUE_PREFIX}:ratelimit`). The limiter drops the prefix's braces inside its account tag, so the keys start
 * `{test-…:ratelimit:` — not under the prefix itself, which is why this does not use `cleanupPrefix`.
 */
export function testRedis(): { redis: Redis; keyPrefix: string; cleanup: () => Promise<void> } {
  const redis = new Redis(REDIS_URL);
  const keyPrefix = `${uniqueQueuePrefix()}:ratelimit`;
  const pattern = `{${keyPrefix.replace(/[{}]/g, "")}:*`;
  return {
    redis,
    keyPrefix,
    async cleanup() {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit();
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(start: number) {
  let t = start;
  return { now: () => t, set: (v: number) => void (t = v), advance: (ms: number) => void (t += ms) };
}
