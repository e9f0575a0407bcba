import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, loadConfig, type Config } from "../../packages/config/src/index.js";
import { createTestDatabase, type TestDatabase } from "../../packages/db/src/testing.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { runPipeline, type Pipeline } from "../../apps/dev/src/pipeline.js";
import { freePort } from "../helpers/ports.js";
import { cleanupPrefix, uniqueQueuePrefix } from "../helpers/redis.js";

/** `pnpm start`'s pipeline in this process, on a fresh database, free ports, its own queue prefix and dev state file. */
export interface DevPipeline {
  pipeline: Pipeline;
  config: Config;
  db: TestDatabase;
  /** The dev state file this pipeline wrote. */
  statePath: string;
  /** The environment a second dev command in a child process gets: no CRM variables at all. */
  childEnv: Record<string, string | undefined>;
  close(): Promise<void>;
}

/** How long after startup close() waits at least (see close()). */
const STARTUP_SETTLE_MS = 1_500;

export async function startDevPipeline(extraEnv: Record<string, string> = {}): Promise<DevPipeline> {
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), "leadsync-dev-"));
  const statePath = join(dir, "dev.json");
  const prefix = uniqueQueuePrefix();
  const env = {
    NODE_ENV: "development",
    LOG_LEVEL: "silent",
    DATABASE_URL: db.url,
    REDIS_URL: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
    QUEUE_PREFIX: prefix,
    PORT: String(await freePort()),
    HUBSPOT_SANDBOX_PORT: String(await freePort()),
    // Any free port for each CRM emulator (0 also moves the Pub/Sub gRPC and Zoho API-domain ports): tests run side by side.
    SALESFORCE_SANDBOX_PORT: "0",
    ZOHO_SANDBOX_PORT: "0",
    PIPEDRIVE_SANDBOX_PORT: "0",
    RECONCILE_INTERVAL_MS: "0",
    ...extraEnv,
  };
  const config = loadConfig(env);
  const pipeline = await runPipeline({ config, logger: createLogger({ name: "dev-test", level: "silent", pretty: false }), statePath });
  const startedAt = Date.now();
  const childEnv = { PATH: process.env["PATH"], HOME: process.env["HOME"], ...env, LEADSYNC_DEV_STATE: statePath };
  return {
    pipeline,
    config: pipeline.config,
    db,
    statePath,
    childEnv,
    async close() {
      // The workers' startup (feed subscriptions, their first reconciliation) is let finish first: a stop in the
      // middle of it leaves a Redis command rejecting with "Connection is closed." that nobody awaits (a worker race,
      // not this pipeline's), which vitest counts as an unhandled error. `pnpm start` tolerates it on Ctrl-C.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, STARTUP_SETTLE_MS - (Date.now() - startedAt))));
      await pipeline.close();
      const redis = createRedisConnection(env.REDIS_URL, { role: "producer" });
      await cleanupPrefix(redis, prefix).catch(() => undefined);
      redis.disconnect();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
