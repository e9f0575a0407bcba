import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { NotReplicatedError, createRedisConnection, waitForReplicas } from "../src/index.js";

// Against a Redis Cluster: test/cluster/replication.test.ts. Here, a single Redis (the shared one, read-only use).
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("waitForReplicas on a single Redis", () => {
  const redis = createRedisConnection(REDIS_URL, { role: "worker" }) as Redis;
  afterAll(() => redis.quit());

  it("resolves with the replicas that have the write, and rejects when fewer than required do", async () => {
    const replicas = Number(/connected_slaves:(\d+)/.exec(await redis.info("replication"))?.[1]);
    const key = `{test-replication-${randomUUID()}}`;
    await redis.set(key, "x", "PX", 10_000);
    expect(await waitForReplicas(redis, key, replicas, 1_000)).toBe(replicas);

    const started = Date.now();
    const refused = waitForReplicas(redis, key, replicas + 1, 150);
    await expect(refused).rejects.toBeInstanceOf(NotReplicatedError);
    await expect(refused).rejects.toMatchObject({ acknowledged: replicas, required: replicas + 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140); // it waited its timeout
  });
});
