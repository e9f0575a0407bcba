import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { assertRedisReachable, cleanupPrefix, uniqueQueuePrefix } from "../../../test/helpers/redis.js";

const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const redis = new Redis(redisUrl, { lazyConnect: true });
afterAll(async () => {
  await redis.quit();
});

describe("Redis test helpers", () => {
  it("gives unique, hash-tagged prefixes", () => {
    const prefix = uniqueQueuePrefix();
    expect(prefix).toMatch(/^\{test-[0-9a-f]{12}\}$/);
    expect(uniqueQueuePrefix()).not.toBe(prefix);
  });

  it("cleanupPrefix deletes that prefix's keys and nothing else", async () => {
    const mine = uniqueQueuePrefix();
    const neighbour = uniqueQueuePrefix();
    const keys = Array.from({ length: 1200 }, (_, i) => `${mine}:queue:${i}`);
    await redis.mset(...keys.flatMap((key) => [key, "x"]));
    await redis.set(`${neighbour}:queue:1`, "keep");
    try {
      expect(await cleanupPrefix(redis, mine)).toBe(1200);
      expect(await redis.exists(keys[0] ?? "", keys[1199] ?? "")).toBe(0);
      expect(await redis.get(`${neighbour}:queue:1`)).toBe("keep");
    } finally {
      await cleanupPrefix(redis, neighbour);
    }
  });

  it("cleanupPrefix refuses a prefix that is not a test prefix", async () => {
    await expect(cleanupPrefix(redis, "{leadsync}")).rejects.toThrow(/only deletes test prefixes/);
  });

  it("assertRedisReachable names the URL when Redis does not answer", async () => {
    await expect(assertRedisReachable(redisUrl)).resolves.toBeUndefined();
    await expect(assertRedisReachable("redis://127.0.0.1:1")).rejects.toThrow(/redis:\/\/127\.0\.0\.1:1/);
  });
});
