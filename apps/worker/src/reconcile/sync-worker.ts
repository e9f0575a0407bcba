import type { Config, Logger } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import { QUEUES, createWorker, layoutFromConfig, openQueue, type JobPayload, type JobProcessor, type TypedQueue } from "@leadsync/queue";
import { DelayedError, type Job } from "bullmq";
import type { RedisClient } from "@leadsync/queue";
import { runBackfill } from "../backfill/run-backfill.js";
import type { IntegrationDirectory } from "../integrations.js";
import { rethrowForBullMQ } from "../job-failures.js";
import { maintainIntegration } from "../feeds/maintain.js";
import { pruneOldRows } from "./prune.js";
import { runReconciliation } from "./run-reconciliation.js";

/**
 * The `crm-sync` worker: backfills queued through the API, and reconciliation — one repeatable tick
 * (`reconcile-all`, every RECONCILE_INTERVAL_MS) that queues a `reconcile` job per integration taking inbound
 * changes. A tick covers integrations created since the last one without any scheduler bookkeeping; the
 * per-integration job id keeps two reconciliations of one integration from overlapping.
 */

export const RECONCILE_SCHEDULER_ID = "reconcile-all";
export const MAINTAIN_SCHEDULER_ID = "maintain-all";
export const PRUNE_SCHEDULER_ID = "prune";
/** How often old rows are pruned (RETENTION_DAYS says how old). */
const PRUNE_INTERVAL_MS = 3600_000;
/** Backfills run for minutes and mostly wait on search's 5 calls/s: a few at once per process is plenty. */
const SYNC_CONCURRENCY = 4;
/** A backfill another live process is running: look again after this long. */
const BUSY_RETRY_MS = 30_000;

export interface SyncWorkerDeps {
  config: Config;
  prisma: PrismaClient;
  connection: RedisClient;
  directory: IntegrationDirectory;
  logger: Logger;
}

export function startSyncWorker(deps: SyncWorkerDeps): { close(): Promise<void> } {
  const { config, prisma, connection, logger } = deps;
  const log = logger.child({ queue: QUEUES.crmSync });
  const layout = layoutFromConfig(config);
  const queue = openQueue(QUEUES.crmSync, { connection, layout, logger: log });
  const scheduling = Promise.all([
    schedule(queue, RECONCILE_SCHEDULER_ID, config.reconcileIntervalMs, "reconcile-all"),
    schedule(queue, MAINTAIN_SCHEDULER_ID, config.feedMaintenanceIntervalMs, "maintain-all"),
    schedule(queue, PRUNE_SCHEDULER_ID, PRUNE_INTERVAL_MS, "prune"),
  ]).catch((err: unknown) => log.error({ err }, "Could not schedule reconciliation and feed maintenance"));
  const queueReconcile = (integrationId: string) => queueReconciliation(queue, integrationId);

  /** Aborted on close: running backfills save their cursor and stop instead of holding shutdown up. */
  const stopping = new AbortController();

  const processor: JobProcessor<"crm-sync"> = async (payload, job) => {
    switch (payload.kind) {
      case "reconcile-all":
        return { queued: await queueReconciliations(queue, prisma) };
      case "reconcile": {
        const integration = await prisma.crmIntegration.findUnique({ where: { id: payload.integrationId } });
        if (!integration || !takesInbound(integration)) return { skipped: true };
        try {
          return await runReconciliation({ ...deps, logger: log }, integration, { signal: stopping.signal });
        } catch (error) {
          return rethrowForBullMQ(job, error);
        }
      }
      case "backfill":
        return runQueuedBackfill(payload, job);
      case "prune": {
        const pruned = await pruneOldRows(prisma, config.retentionDays);
        log.info({ ...pruned, retentionDays: config.retentionDays }, "Pruned rows past the retention period");
        return pruned;
      }
      case "maintain-all":
        return { queued: await queueMaintenance(queue, prisma) };
      case "maintain": {
        const integration = await prisma.crmIntegration.findUnique({ where: { id: payload.integrationId } });
        if (!integration || integration.status !== "active") return { skipped: true };
        try {
          return await maintainIntegration({ ...deps, logger: log, queueReconcile }, integration);
        } catch (error) {
          return rethrowForBullMQ(job, error);
        }
      }
    }
  };

  async function runQueuedBackfill(payload: Extract<JobPayload<"crm-sync">, { kind: "backfill" }>, job: Job) {
    const outcome = await runBackfill({ ...deps, logger: log }, payload.syncJobId, { signal: stopping.signal });
    // Another live process has it (e.g. the CLI): look again later. Stopped by shutdown: the next worker resumes it.
    if (outcome.status === "busy") await delay(job, BUSY_RETRY_MS, `backfill ${payload.syncJobId} is running in ${outcome.owner}`);
    if (outcome.status === "interrupted") await delay(job, 0, `backfill ${payload.syncJobId} was interrupted`);
    return outcome;
  }

  /** Back to the delayed set without using an attempt. */
  async function delay(job: Job, ms: number, reason: string): Promise<never> {
    if (!job.token) throw new Error(reason);
    await job.moveToDelayed(Date.now() + ms, job.token);
    throw new DelayedError(reason);
  }

  const worker = createWorker(QUEUES.crmSync, processor, { connection, prefix: layout.prefix, queueName: queue.name, concurrency: SYNC_CONCURRENCY, logger: log });
  return {
    async close() {
      stopping.abort();
      await scheduling;
      await worker.close();
      await queue.close();
    },
  };
}

function takesInbound(integration: { status: string; syncDirection: string }): boolean {
  return integration.status === "active" && integration.syncDirection !== "to_crm";
}

/** A repeatable tick; interval 0 removes it (reconciliation or maintenance off). */
async function schedule(queue: TypedQueue<"crm-sync">, schedulerId: string, intervalMs: number, kind: "reconcile-all" | "maintain-all" | "prune"): Promise<void> {
  if (intervalMs <= 0) {
    await queue.removeJobScheduler(schedulerId);
    return;
  }
  // The first tick comes one interval after start, not at once (BullMQ runs an `every` scheduler immediately otherwise).
  await queue.upsertJobScheduler(
    // BullMQ types the scheduler id as a job name; it is any string.
    schedulerId as typeof QUEUES.crmSync,
    { every: intervalMs, startDate: Date.now() + intervalMs },
    { name: QUEUES.crmSync, data: { v: 1, kind }, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );
}

/** One `reconcile` job per integration that takes inbound changes; one already waiting or running is not doubled. */
async function queueReconciliations(queue: TypedQueue<"crm-sync">, prisma: PrismaClient): Promise<number> {
  const integrations = await prisma.crmIntegration.findMany({
    where: { status: "active", syncDirection: { in: ["from_crm", "bidirectional"] } },
    select: { id: true },
  });
  await queue.addBulk(integrations.map(({ id }) => ({ name: QUEUES.crmSync, ...reconcileJob(id) })));
  return integrations.length;
}

/** One `maintain` job per active integration with a feed that expires or OAuth tokens; a pending one is not doubled. */
async function queueMaintenance(queue: TypedQueue<"crm-sync">, prisma: PrismaClient): Promise<number> {
  const integrations = await prisma.crmIntegration.findMany({
    where: { status: "active", OR: [{ authType: "oauth" }, { webhooksEnabled: true }] },
    select: { id: true },
  });
  await queue.addBulk(
    integrations.map(({ id }) => ({
      name: QUEUES.crmSync,
      data: { v: 1 as const, kind: "maintain" as const, integrationId: id },
      opts: { jobId: `maintain-${id}`, removeOnComplete: true, removeOnFail: true },
    })),
  );
  return integrations.length;
}

/** One integration's reconciliation job; removed when done, so its id only dedupes while one is pending or running. */
function reconcileJob(integrationId: string) {
  return {
    data: { v: 1 as const, kind: "reconcile" as const, integrationId },
    opts: { jobId: `reconcile-${integrationId}`, removeOnComplete: true, removeOnFail: true },
  };
}

/** Queues a reconciliation of the integration, unless one is already waiting or running. */
export async function queueReconciliation(queue: TypedQueue<"crm-sync">, integrationId: string): Promise<void> {
  const { data, opts } = reconcileJob(integrationId);
  await queue.add(QUEUES.crmSync, data, opts);
}
