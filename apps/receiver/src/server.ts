/**
 * The receiver as a standalone process: `tsx apps/receiver/src/server.ts`. Needs Redis only, never Postgres.
 */
import { ConfigError, createLogger, loadConfig } from "@leadsync/config";
import { closeAll, createQueueGroup, createRedisConnection, layoutFromConfig, QUEUES } from "@leadsync/queue";
import { buildReceiverApp } from "./app.js";

/** Whole shutdown budget: HTTP drains first, then the queue and Redis get what is left. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ name: "receiver", level: config.logLevel });

  const connection = createRedisConnection(config.redis, { role: "producer", connectionName: "leadsync-receiver" });
  // Reconnects in the background (the queue logs connection errors); meanwhile webhooks answer 503 and HubSpot retries.
  const queue = createQueueGroup(QUEUES.crmChanges, { connection, layout: layoutFromConfig(config), logger });

  let app;
  try {
    app = buildReceiverApp({ config, queue, connection, logger });
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    logger.fatal({ err: error }, "receiver failed to start");
    await closeAll({ queues: queue.queues, connections: [connection] }, { timeoutMs: 2_000 });
    process.exit(1);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error("shutdown timed out");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    try {
      await app.close();
      await closeAll({ queues: queue.queues, connections: [connection] }, { timeoutMs: SHUTDOWN_TIMEOUT_MS / 2 });
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

void main();
