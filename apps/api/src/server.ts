/**
 * Standalone entry of the platform API (`tsx apps/api/src/server.ts`): config, connections, listen, and one
 * idempotent graceful shutdown. `pnpm start` (apps/dev) composes the same app beside the receiver instead.
 */
import { createLogger, loadConfig, withDevState } from "@leadsync/config";
import { createPrismaClient } from "@leadsync/db";
import { closeAll, createQueueGroup, createRedisConnection, layoutFromConfig, QUEUES } from "@leadsync/queue";
import { buildApiApp } from "./app.js";

/** How long in-flight requests and queue handles get to finish before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

const config = loadConfig(withDevState(process.env).env);
const logger = createLogger({ name: "api", level: config.logLevel });
const prisma = createPrismaClient(config.databaseUrl);
const connection = createRedisConnection(config.redis, { role: "producer", connectionName: "leadsync-api" });
connection.on("error", (err) => logger.warn({ err }, "redis connection error"));
const crmOutbound = createQueueGroup(QUEUES.crmOutbound, { connection, layout: layoutFromConfig(config), logger });
const app = buildApiApp({ config, prisma, connection, queues: { crmOutbound }, logger });
// Slow clients must not hold sockets forever; keep-alive a little longer than typical load balancers' idle timeout.
app.server.requestTimeout = 30_000;
app.server.keepAliveTimeout = 65_000;

let shuttingDown: Promise<void> | undefined;
function shutdown(signal: string): Promise<void> {
  shuttingDown ??= (async () => {
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error("shutdown deadline passed; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    await app.close(); // stops accepting, waits for in-flight requests
    await closeAll({ queues: crmOutbound.queues, connections: [connection] });
    await prisma.$disconnect();
    logger.info("stopped");
  })();
  return shuttingDown;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void shutdown(signal));

try {
  await app.listen({ port: config.port, host: config.host });
} catch (err) {
  logger.fatal({ err }, "could not start the API");
  await shutdown("startup-failure");
  process.exit(1);
}
