import { createLogger, loadConfig } from "@leadsync/config";
import { createPrismaClient } from "@leadsync/db";
import { closeAll, createRedisConnection } from "@leadsync/queue";
import { startWorkers } from "./workers.js";

/** Standalone worker process: `tsx apps/worker/src/main.ts`. Scale out by running more of them. */

const SHUTDOWN_DEADLINE_MS = 15_000;

const config = loadConfig();
const logger = createLogger({ name: "worker", level: config.logLevel });
const prisma = createPrismaClient(config.databaseUrl);
const connection = createRedisConnection(config.redisUrl, { role: "worker", connectionName: "leadsync-worker" });
const workers = startWorkers({ config, prisma, connection, logger });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "Stopping workers");
  // Active jobs finish within the deadline; past it they are left to BullMQ's stalled-job recovery.
  const { timedOut } = await closeAll({ workers: [workers], connections: [connection] }, { timeoutMs: SHUTDOWN_DEADLINE_MS });
  await prisma.$disconnect();
  logger.info({ timedOut }, "Workers stopped");
  process.exit(0);
}

process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
