import type { Config, Logger } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import { QUEUES, createWorker, layoutFromConfig } from "@leadsync/queue";
import type { RedisClient } from "@leadsync/queue";
import { Coalescer } from "./coalescer.js";
import { withDailyCapLog } from "./daily-cap.js";
import { createInboundBatchHandler } from "./inbound/handle-batch.js";
import { createInboundProcessor } from "./inbound/processor.js";
import { contactIdsOf, type InboundItem } from "./inbound/types.js";
import { createIntegrationDirectory } from "./integrations.js";
import { observeJobDuration } from "./metrics.js";
import { createOutboundBatchHandler, type OutboundItem } from "./outbound/handle-batch.js";
import { GrowingBatchWindow } from "./outbound/batch-window.js";
import { createOutboundProcessor } from "./outbound/processor.js";
import { startPulledFeeds } from "./feeds/pulled-feeds.js";
import { startSyncWorker } from "./reconcile/sync-worker.js";

/** HubSpot's batch endpoints take at most 100 records; one outbound batch never exceeds one call. */
const MAX_BATCH = 100;
/**
 * Contacts per inbound batch: up to three batch reads (100 each), then one transaction for all of them. Under a
 * burst, fewer and larger transactions cost Postgres about a quarter less CPU per lead and the worker about a tenth
 * (bench db-ceiling); a quiet portal's batches close on the window long before they are this full.
 */
const MAX_INBOUND_BATCH = 3 * MAX_BATCH;
/** crm-changes jobs a normal lane runs at once at least (see where the workers are made). */
const MIN_NORMAL_LANE_CONCURRENCY = 32;
/** The longest an outbound batch gathers leads while they arrive steadily (outbound/batch-window.ts). */
const MAX_OUTBOUND_WINDOW_MS = 500;

export interface WorkersDeps {
  config: Config;
  prisma: PrismaClient;
  /** A worker-role connection (`createRedisConnection(url, { role: "worker" })`); the caller closes it. */
  connection: RedisClient;
  logger: Logger;
}

export interface RunningWorkers {
  /** Stops taking jobs, lets active ones finish (their batches flush), then returns. */
  close(): Promise<void>;
}

/** Starts the inbound (`crm-changes`) and outbound (`crm-outbound`) workers. */
export function startWorkers({ config, prisma, connection, logger }: WorkersDeps): RunningWorkers {
  const directory = createIntegrationDirectory({ config, prisma, connection, logger });
  const inboundLog = logger.child({ queue: QUEUES.crmChanges });
  const outboundLog = logger.child({ queue: QUEUES.crmOutbound });

  const dailyCapLog = { prisma, redis: connection, keyPrefix: config.queuePrefix, logger };
  const inboundBatches = new Coalescer<InboundItem>({
    windowMs: config.inboundBatchWindowMs,
    maxDistinct: MAX_INBOUND_BATCH,
    distinctKey: (item) => item.change.recordId,
    // A batch sharing no record with the account's unfinished batches runs alongside them (reads and writes).
    overlapKeys: (item) => contactIdsOf(item.change),
    flush: withDailyCapLog(
      createInboundBatchHandler({ config, prisma, directory, logger: inboundLog }),
      async (_accountKey: string, items: readonly InboundItem[]) => {
        const first = items[0]?.change;
        return first ? ((await directory.findByAccount(first.provider, first.accountId))?.id ?? null) : null;
      },
      dailyCapLog,
    ),
  });
  const outboundWindow = new GrowingBatchWindow(config.inboundBatchWindowMs, MAX_OUTBOUND_WINDOW_MS);
  const outboundBatches = new Coalescer<OutboundItem>({
    windowMs: outboundWindow.windowMs,
    onBatchClosed: outboundWindow.closed,
    maxDistinct: MAX_BATCH,
    distinctKey: (item) => item.leadId,
    flush: withDailyCapLog(createOutboundBatchHandler({ config, prisma, directory, logger: outboundLog }), async (id) => id, dailyCapLog),
  });

  const layout = layoutFromConfig(config);
  const common = {
    connection,
    prefix: layout.prefix,
    concurrency: config.workerConcurrency,
    lockDuration: config.workerLockDurationMs,
    stalledInterval: config.workerStalledIntervalMs,
  };
  // One BullMQ worker per shard and lane, each with slots of its own: a burst in a bulk lane holds only that lane's,
  // and the normal lanes keep theirs for every other account. All of them feed the same per-account batches.
  const inboundProcessor = createInboundProcessor({ config, prisma, directory, batches: inboundBatches, logger: inboundLog });
  const outboundProcessor = createOutboundProcessor({ prisma, batches: outboundBatches, logger: outboundLog });
  const workers = [
    ...layout.queuesOf(QUEUES.crmChanges).map((queue) =>
      createWorker(QUEUES.crmChanges, inboundProcessor, {
        ...common,
        queueName: queue.name,
        // A job mostly waits for its account's batch (window, read, transaction), so slots are cheap: a normal lane
        // gets enough for a second of a thousand quiet portals' deliveries. A bulk lane gets WORKER_BULK_CONCURRENCY,
        // which bounds how much of the process (and of Postgres) one bursting account takes (bench tenants).
        concurrency: queue.lane === "normal" ? Math.max(config.workerConcurrency, MIN_NORMAL_LANE_CONCURRENCY) : config.workerBulkConcurrency,
        logger: inboundLog,
      }),
    ),
    ...layout.queuesOf(QUEUES.crmOutbound).map((queue) =>
      createWorker(QUEUES.crmOutbound, outboundProcessor, {
        ...common,
        queueName: queue.name,
        // One lead per job, and a batch only gathers jobs that are running: fewer than 100 at once would cap every
        // HubSpot call below 100 leads. The jobs mostly wait for their batch, so this costs little.
        concurrency: Math.max(config.workerConcurrency, MAX_BATCH),
        logger: outboundLog,
      }),
    ),
  ];
  for (const worker of workers) {
    worker.on("completed", (job) => observeJobDuration(worker.name, "completed", job));
    worker.on("failed", (job) => observeJobDuration(worker.name, "failed", job));
  }
  // Backfills, reconciliation and feed maintenance (crm-sync); pulled feeds (one subscription per integration).
  const syncWorker = startSyncWorker({ config, prisma, connection, directory, logger });
  const pulledFeeds = startPulledFeeds({ config, prisma, connection, directory, logger });
  logger.info({ concurrency: config.workerConcurrency, batchWindowMs: config.inboundBatchWindowMs, queues: workers.length, shards: layout.shards }, "Workers started");

  return {
    async close() {
      // Worker.close() waits for active jobs, and those wait for their batch: flush the open batches alongside.
      const closing = Promise.all(workers.map((w) => w.close()));
      await Promise.all([inboundBatches.drain(), outboundBatches.drain()]);
      await pulledFeeds.close();
      await closing;
      await syncWorker.close();
    },
  };
}
