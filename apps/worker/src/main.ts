import { createLogger, loadConfigOrExit, withDevState } from "@leadsync/config";
import { createPrismaClient } from "@leadsync/db";
import { closeAll, createRedisConnection } from "@leadsync/queue";
import { startMetricsServer } from "./metrics.js";
import { startWorkers } from "./workers.js";

/**
 * Standalone worker process: `tsx apps/worker/src/main.ts`. Scale out by running more of them.
 * Serves /metrics and /health on WORKER_METRICS_PORT (on HOST).
 */

const SHUTDOWN_DEADLINE_MS = 15_000;

const config = loadConfigOrExit(withDevState(process.env).env);
const logger = createLogger({ name: "worker", level: config.logLevel });
const prisma = createPrismaClient(config.databaseUrl);
const connection = createRedisConnection(config.redis, { role: "worker", connectionName: "leadsync-worker" });
const workers = startWorkers({ config, prisma, connection, logger });
const metricsServer = await startMetricsServer({ port: config.workerMetricsPort, host: config.host }).catch((err: unknown) => {
  // Metrics are for operators; a taken port must not stop the sync.
  logger.error({ err, port: config.workerMetricsPort }, "Could not serve worker metrics");
  return undefined;
});
if (metricsServer) {
  const address = metricsServer.address();
  logger.info({ port: typeof address === "object" && address ? address.port : config.workerMetricsPort }, "Worker metrics on /metrics");
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "Stopping workers");
  metricsServer?.close();
  // Active jobs finish within the deadline; past it they are left to BullMQ's stalled-job recovery.
  const { timedOut } = await closeAll({ workers: [workers], connections: [connection] }, { timeoutMs: SHUTDOWN_DEADLINE_MS });
  await prisma.$disconnect();
  // Peak memory of the whole run, for capacity planning (and `pnpm bench`).
  logger.info({ timedOut, maxRssBytes: process.resourceUsage().maxRSS * 1024 }, "Workers stopped");
  process.exit(0);
}

process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
