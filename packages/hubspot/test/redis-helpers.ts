import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A Redis connection plus a key prefix no other test uses; `cleanup` deletes only that prefix's keys. */
export function testRedis(name: string): { redis: Redis; keyPrefix: string; cleanup: () => Promise<void> } {
  const redis = new Redis(REDIS_URL);
  const keyPrefix = `test:hubspot:${name}:${randomUUID()}`;
  return {
    redis,
    keyPrefix,
    async cleanup() {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit();
    },
  };
}
