import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { RedisClient } from "../src/index.js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_ATTEMPTS,
  QUEUES,
  closeAll,
  createQueue,
  createRedisConnection,
  createWorker,
  enqueue,
  isValidJobId,
  type CrmChangesJob,
  type TypedQueue,
} from "../src/index.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const logger = pino({ level: "silent" });

/** A unique prefix per test file run: never touches `pnpm start`'s `{leadsync}` keys. */
const prefix = `{leadsync-test-queue-${randomUUID()}}`;

const validPayload: CrmChangesJob = {
  v: 1,
  provider: "hubspot",
  receivedAt: 1_700_000_000_000,
  events: [{ eventId: 1, portalId: 62515, objectId: 123, occurredAt: 1_700_000_000_000, subscriptionType: "contact.creation" }],
};

function nextSettled(worker: Worker<CrmChangesJob, string, "crm-changes">): Promise<{ job: Job; error?: Error }> {
  return new Promise((resolve) => {
    worker.once("completed", (job) => resolve({ job }));
    worker.once("failed", (job, error) => {
      if (job) resolve({ job, error });
    });
  });
}

describe("queue package against real Redis", () => {
  let producer: RedisClient;
  let workerConnection: RedisClient;
  let queue: TypedQueue<typeof QUEUES.crmChanges>;

  beforeAll(async () => {
    producer = createRedisConnection(REDIS_URL, { role: "producer" });
    workerConnection = createRedisConnection(REDIS_URL, { role: "worker" });
    queue = createQueue(QUEUES.crmChanges, { connection: producer, prefix, logger });
    await queue.waitUntilReady();
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await closeAll({ queues: [queue], connections: [producer, workerConnection] }, { timeoutMs: 5_000 });
  });

  it("applies the default job options (attempts, jittered exponential backoff, bounded retention)", async () => {
    const job = await enqueue(queue, validPayload, { jobId: `defaults-${randomUUID()}` });
    expect(job.opts.attempts).toBe(DEFAULT_ATTEMPTS);
    expect(job.opts.backoff).toMatchObject({ type: "exponential", jitter: 0.5 });
    expect(job.opts.removeOnComplete).toEqual({ age: 48 * 3600, count: expect.any(Number) });
    expect(job.opts.removeOnFail).toMatchObject({ age: expect.any(Number) });
    await job.remove();
  });

  it("dedupes by job id: adding the same id twice leaves one job", async () => {
    const jobId = `dedupe-${randomUUID()}`;
    const first = await enqueue(queue, validPayload, { jobId });
    const second = await enqueue(queue, { ...validPayload, receivedAt: validPayload.receivedAt + 1 }, { jobId });
    expect(second.id).toBe(first.id);
    const stored = await queue.getJob(jobId);
    expect(stored?.data.receivedAt).toBe(validPayload.receivedAt);
    const waiting = await queue.getJobs(["waiting"]);
    expect(waiting.filter((j) => j.id === jobId)).toHaveLength(1);
    await first.remove();
  });

  it("enqueue refuses a payload that breaks the contract, and adds nothing", async () => {
    const before = await queue.getJobCounts("waiting");
    const bad = { ...validPayload, events: [] } as CrmChangesJob;
    await expect(enqueue(queue, bad)).rejects.toThrow();
    expect(await queue.getJobCounts("waiting")).toEqual(before);
  });

  it("a worker processes valid payloads and fails invalid ones without retrying", async () => {
    const seen: CrmChangesJob[] = [];
    const worker = createWorker(
      QUEUES.crmChanges,
      async (payload) => {
        seen.push(payload);
        return "ok";
      },
      { connection: workerConnection, prefix, concurrency: 1, logger },
    );
    try {
      const done = nextSettled(worker);
      await enqueue(queue, validPayload, { jobId: `valid-${randomUUID()}` });
      const ok = await done;
      expect(ok.error).toBeUndefined();
      expect(seen).toEqual([validPayload]);

      // Bypass `enqueue` to simulate a producer that skipped validation (or an old payload version).
      const failed = nextSettled(worker);
      const badId = `invalid-${randomUUID()}`;
      await queue.add(QUEUES.crmChanges, { v: 2, provider: "hubspot" } as unknown as CrmChangesJob, { jobId: badId });
      const result = await failed;
      expect(result.error?.name).toBe("UnrecoverableError");
      expect(result.error?.message).toMatch(/invalid crm-changes payload/);
      const stored = await queue.getJob(badId);
      expect(await stored?.getState()).toBe("failed");
      expect(stored?.attemptsMade).toBe(1);
      expect(seen).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });

  it("worker connections wait through outages; producer connections do not queue commands", () => {
    expect((workerConnection as Redis).options.maxRetriesPerRequest).toBeNull();
    expect((producer as Redis).options.enableOfflineQueue).toBe(false);
    expect((producer as Redis).options.maxRetriesPerRequest).toBeGreaterThan(0);
  });
});

describe("producer connection while Redis is unreachable", () => {
  it("rejects commands instead of hanging", async () => {
    // Port 1: nothing listens, the connection is refused.
    const down = createRedisConnection("redis://127.0.0.1:1", { role: "producer" });
    down.on("error", () => {}); // expected: connection refused
    try {
      await expect(down.ping()).rejects.toThrow();
      await expect(down.set("k", "v")).rejects.toThrow();
    } finally {
      down.disconnect();
    }
  });

  it("closeAll still returns (bounded) when Redis is down", async () => {
    const down = createRedisConnection("redis://127.0.0.1:1", { role: "producer" });
    down.on("error", () => {});
    const q = createQueue(QUEUES.crmOutbound, { connection: down, prefix, logger });
    const result = await closeAll({ queues: [q], connections: [down] }, { timeoutMs: 2_000 });
    expect(typeof result.timedOut).toBe("boolean");
    // disconnect() ends the connection once the pending connect attempt is torn down.
    if (down.status !== "end") await once(down, "end");
    expect(down.status).toBe("end");
  });
});

describe("isValidJobId", () => {
  it("rejects ':' and integer ids, accepts ours", () => {
    expect(isValidJobId("hs-abc123")).toBe(true);
    expect(isValidJobId("hs:abc")).toBe(false);
    expect(isValidJobId("12345")).toBe(false);
    expect(isValidJobId("")).toBe(false);
  });
});
