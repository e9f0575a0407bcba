import { once } from "node:events";
import { parseArgs } from "node:util";
import { createLogger, devStatePath, loadConfig, withDevState, type Config } from "@leadsync/config";
import { createPrismaClient } from "@leadsync/db";
import { QUEUES, closeAll, createQueueGroup, createRedisConnection, layoutFromConfig } from "@leadsync/queue";
import { findOrCreateBackfill } from "./backfill/backfill-jobs.js";
import { backfillSummary, createProgressBar, formatDuration } from "./backfill/progress-bar.js";
import { runBackfill } from "./backfill/run-backfill.js";
import { createIntegrationDirectory } from "./integrations.js";
import { replayFailedJobs } from "./replay.js";

/**
 * Operator commands (`pnpm cli <command>`):
 *   replay --integration <id> [--dry-run]   re-run the integration's failed inbound and outbound jobs
 *   backfill --integration <id>             import the portal's existing contacts (resumes an unfinished backfill)
 */

/**
 * The config of a CLI command. In development the emulators `pnpm start` runs (recorded in `.leadsync/dev.json`)
 * stand in for the CRMs whose base URL the environment leaves unset: a command must reach the same sandbox.
 */
function cliConfig(): Config {
  const { env, used } = withDevState(process.env);
  for (const { provider, url } of used) console.error(`Using the ${provider} emulator of \`pnpm start\` at ${url} (${devStatePath(process.env)})`);
  return loadConfig(env);
}

const USAGE = [
  "usage: pnpm cli replay --integration <integration-id> [--dry-run]",
  "       pnpm cli backfill --integration <integration-id>",
].join("\n");

async function replay(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { integration: { type: "string" }, "dry-run": { type: "boolean", default: false } } });
  if (!values.integration) {
    console.error(USAGE);
    return 2;
  }
  const config = cliConfig();
  const prisma = createPrismaClient(config.databaseUrl);
  const connection = createRedisConnection(config.redis, { role: "producer", connectionName: "leadsync-cli" });
  const layout = layoutFromConfig(config);
  const crmChanges = createQueueGroup(QUEUES.crmChanges, { connection, layout });
  const crmOutbound = createQueueGroup(QUEUES.crmOutbound, { connection, layout });
  try {
    const integration = await prisma.crmIntegration.findUnique({ where: { id: values.integration } });
    if (!integration) {
      console.error(`No integration ${values.integration}`);
      return 1;
    }
    const dryRun = values["dry-run"];
    const result = await replayFailedJobs(
      { crmChanges, crmOutbound },
      { integrationId: integration.id, provider: integration.provider, accountId: integration.externalAccountId },
      { dryRun },
    );
    const verb = dryRun ? "Would replay" : "Replayed";
    console.log(`${verb} ${result.crmChanges} inbound and ${result.crmOutbound} outbound failed job(s) of integration ${integration.id}`);
    return 0;
  } finally {
    await closeAll({ queues: [...crmChanges.queues, ...crmOutbound.queues], connections: [connection] });
    await prisma.$disconnect();
  }
}

async function backfill(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { integration: { type: "string" } } });
  if (!values.integration) {
    console.error(USAGE);
    return 2;
  }
  const config = cliConfig();
  // Warnings and errors only: the terminal shows the progress bar.
  const logger = createLogger({ name: "backfill", level: "warn", pretty: false });
  const prisma = createPrismaClient(config.databaseUrl);
  const connection = createRedisConnection(config.redis, { role: "producer", connectionName: "leadsync-cli" });
  // A producer connection queues no commands while connecting: the first rate-limiter call must wait for it.
  if (connection.status !== "ready") await once(connection, "ready");
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  try {
    const integration = await prisma.crmIntegration.findUnique({ where: { id: values.integration } });
    if (!integration) {
      console.error(`No integration ${values.integration}`);
      return 1;
    }
    if (integration.status !== "active" || integration.syncDirection === "to_crm") {
      console.error(`Integration ${integration.id} takes no contacts from the CRM (status ${integration.status}, direction ${integration.syncDirection})`);
      return 1;
    }
    const { job, resumed } = await findOrCreateBackfill(prisma, integration.id);
    console.log(resumed ? `Resuming backfill ${job.id} after ${job.processed} contact(s)` : `Starting backfill ${job.id}`);
    const directory = createIntegrationDirectory({ config, prisma, connection, logger });
    const bar = createProgressBar(process.stderr, job.processed);
    const started = Date.now();
    const outcome = await runBackfill({ config, prisma, directory, logger }, job.id, { signal: stop.signal, onProgress: (p) => bar.update(p) });
    bar.done(outcome.status === "busy" ? undefined : outcome.progress);
    if (outcome.status === "busy") {
      console.error(`Backfill ${job.id} is running in another process (${outcome.owner}); try again when it stops`);
      return 1;
    }
    const summary = backfillSummary(outcome.progress, job.processed);
    if (outcome.status === "interrupted") {
      console.log(`Backfill ${job.id} interrupted at ${summary}; run the same command to resume`);
      return 130;
    }
    console.log(`Backfill ${job.id} completed in ${formatDuration(Date.now() - started)}: ${summary}`);
    return 0;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await closeAll({ connections: [connection] });
    await prisma.$disconnect();
  }
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = { replay, backfill };

const [command, ...rest] = process.argv.slice(2);
const handler = command === undefined ? undefined : COMMANDS[command];
const run = handler ? handler(rest) : Promise.resolve((console.error(USAGE), 2));
run.then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
