// The shared provider e2e harness (test/providers) is root-level code like the bench: imported from its source.
import { QUEUES, createQueue, createRedisConnection } from "../../packages/queue/src/index.js";
import { startProviderWorld, type LeadFieldsInput, type ProviderWorld } from "../../test/providers/harness.js";
import type { ProviderKit } from "../../test/providers/kit.js";
import { onCleanup } from "./cleanup.js";
import { waitUntil } from "./environment.js";

/**
 * One CRM emulator's whole pipeline for a scenario: `startProviderWorld` (emulator, API + receiver, workers and a
 * fresh database in this process, an integration connected through the API), registered on the cleanup stack, plus
 * what the bench needs beside it: queue counts (drained?) and the emulator's full stats.
 */
export interface BenchWorld {
  world: ProviderWorld;
  /** True when no queue of the run's prefix (changes, outbound, sync) has a job waiting, delayed or running. */
  queuesIdle(): Promise<boolean>;
  /** Jobs BullMQ gave up on (attempts exhausted, or unrecoverable), per queue, and their reasons grouped. */
  failedJobs(): Promise<{ total: number; byQueue: Record<string, number>; reasons: Record<string, number> }>;
  /** `GET /__sandbox/accounts/:id/stats` as the emulator answers it (each emulator has its own extra counters). */
  stats<T extends EmulatorStats>(): Promise<T>;
  /** Records created as a person would (the admin route), `batchSize` per request; ids in input order. */
  createRecords(records: readonly LeadFieldsInput[], batchSize: number): Promise<string[]>;
  /** Every record the emulator holds for the account (the admin list without `email`). */
  allRecords(): Promise<unknown>;
  stop(): Promise<void>;
}

export interface EmulatorStats {
  calls: { total: number; byEndpoint: Record<string, number> };
  throttled: number;
}

export async function startBenchWorld(kit: ProviderKit): Promise<BenchWorld> {
  const world = await startProviderWorld(kit);
  const stopWorld = onCleanup(`${kit.name} world`, () => world.close());
  const connection = createRedisConnection(world.config.redisUrl, { role: "producer" });
  const prefix = world.config.queuePrefix;
  // crm-sync too: a first pulled-feed subscription queues a reconciliation, which reads the CRM and writes leads.
  const queues = [createQueue(QUEUES.crmChanges, { connection, prefix }), createQueue(QUEUES.crmOutbound, { connection, prefix }), createQueue(QUEUES.crmSync, { connection, prefix })];
  // Registered after the world, so undone before it (newest first).
  const stopQueues = onCleanup(`${kit.name} queue handles`, async () => {
    for (const queue of queues) await queue.close();
    connection.disconnect();
  });
  const records = `/__sandbox/accounts/${world.accountId}/records`;
  const queuesIdle = async () => {
    for (const queue of queues) {
      // crm-sync always holds delayed jobs (the scheduled feed and token upkeep): only its running or due ones count.
      const states = queue.name === QUEUES.crmSync ? (["active", "waiting", "prioritized"] as const) : (["active", "waiting", "delayed", "prioritized"] as const);
      const counts = await queue.getJobCounts(...states);
      if (Object.values(counts).some((n) => n > 0)) return false;
    }
    return true;
  };
  // What connecting queued (the first feed subscription's reconciliation) runs before the scenario's clock starts.
  await waitUntil(queuesIdle, { timeoutMs: 30_000, intervalMs: 50, what: `the ${kit.name} connection's own jobs` });

  async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, json } = await world.admin<T>(method, path, body);
    if (status >= 300) throw new Error(`${kit.name} emulator ${method} ${path} → ${status}: ${JSON.stringify(json).slice(0, 500)}`);
    return json;
  }

  return {
    world,
    queuesIdle,
    async failedJobs() {
      const byQueue: Record<string, number> = {};
      const reasons: Record<string, number> = {};
      let total = 0;
      for (const queue of queues) {
        const failed = await queue.getFailed(0, -1);
        byQueue[queue.name] = failed.length;
        total += failed.length;
        for (const job of failed) {
          // "retry in 2371 ms" and ids differ per job: grouped without their numbers.
          const reason = `${queue.name}: ${(job.failedReason ?? "").replace(/\s+/g, " ").replace(/\d+/g, "N").trim().slice(0, 160)}`;
          reasons[reason] = (reasons[reason] ?? 0) + 1;
        }
      }
      return { total, byQueue, reasons };
    },
    stats: <T extends EmulatorStats>() => admin<T>("GET", `/__sandbox/accounts/${world.accountId}/stats`),
    async createRecords(inputs, batchSize) {
      const ids: string[] = [];
      for (let i = 0; i < inputs.length; i += batchSize) {
        const chunk = inputs.slice(i, i + batchSize).map((fields) => kit.createBody(fields));
        const created = await admin<{ ids: (string | number)[] }>("POST", records, { records: chunk });
        ids.push(...created.ids.map(String));
      }
      return ids;
    },
    allRecords: () => admin<unknown>("GET", records),
    async stop() {
      await stopQueues();
      await stopWorld();
    },
  };
}

/** Calls by endpoint between two stats, without the zeros. */
export function callsBetween(before: EmulatorStats, after: EmulatorStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [endpoint, n] of Object.entries(after.calls.byEndpoint)) {
    const delta = n - (before.calls.byEndpoint[endpoint] ?? 0);
    if (delta > 0) out[endpoint] = delta;
  }
  return out;
}

export function describeCalls(calls: Record<string, number>): string {
  const entries = Object.entries(calls).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k} ${v}`).join(", ");
}
