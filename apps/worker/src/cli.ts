import { parseArgs } from "node:util";
import { loadConfig } from "@leadsync/config";
import { createPrismaClient } from "@leadsync/db";
import { QUEUES, closeAll, createQueue, createRedisConnection } from "@leadsync/queue";
import { replayFailedJobs } from "./replay.js";

/**
 * Operator commands (`pnpm cli <command>`):
 *   replay --integration <id> [--dry-run]   re-run the integration's failed inbound and outbound jobs
 */

const USAGE = "usage: pnpm cli replay --integration <integration-id> [--dry-run]";

async function replay(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { integration: { type: "string" }, "dry-run": { type: "boolean", default: false } } });
  if (!values.integration) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const prisma = createPrismaClient(config.databaseUrl);
  const connection = createRedisConnection(config.redisUrl, { role: "producer", connectionName: "leadsync-cli" });
  const hubspotEvents = createQueue(QUEUES.hubspotEvents, { connection, prefix: config.queuePrefix });
  const crmOutbound = createQueue(QUEUES.crmOutbound, { connection, prefix: config.queuePrefix });
  try {
    const integration = await prisma.crmIntegration.findUnique({ where: { id: values.integration } });
    if (!integration) {
      console.error(`No integration ${values.integration}`);
      return 1;
    }
    const dryRun = values["dry-run"];
    const result = await replayFailedJobs(
      { hubspotEvents, crmOutbound },
      { integrationId: integration.id, portalId: integration.externalAccountId },
      { dryRun },
    );
    const verb = dryRun ? "Would replay" : "Replayed";
    console.log(`${verb} ${result.hubspotEvents} inbound and ${result.crmOutbound} outbound failed job(s) of integration ${integration.id}`);
    return 0;
  } finally {
    await closeAll({ queues: [hubspotEvents, crmOutbound], connections: [connection] });
    await prisma.$disconnect();
  }
}

const [command, ...rest] = process.argv.slice(2);
const run = command === "replay" ? replay(rest) : Promise.resolve((console.error(USAGE), 2));
run.then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
