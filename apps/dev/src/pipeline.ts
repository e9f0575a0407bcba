import { devStatePath, readDevState, writeDevState, type Config, type DevProviderState, type Logger } from "@leadsync/config";
import { buildApiApp, signDevToken } from "@leadsync/api";
import { createPrismaClient, migrate, type PrismaClient } from "@leadsync/db";
import { checkAccessToken, createHubSpotClient } from "@leadsync/hubspot";
import { startSandbox, type Sandbox } from "@leadsync/hubspot-sandbox";
import { closeAll, createQueue, createRedisConnection, QUEUES } from "@leadsync/queue";
import { receiverPlugin, HUBSPOT_WEBHOOK_PATH } from "@leadsync/receiver";
import { startWorkers } from "@leadsync/worker";
import type { FastifyInstance } from "fastify";
import type { PipelineSummary } from "./banner.js";
import { preflight, StartupError } from "./preflight.js";

/** The organisation `pnpm start` connects to HubSpot (CONTRACT.md: "demo"). */
export const DEMO_ORG_ID = "demo";

export interface Pipeline {
  summary: PipelineSummary;
  config: Config;
  close(): Promise<void>;
}

/**
 * Starts everything in one process, in dependency order, and returns one close() that stops it in reverse:
 * HTTP first (no new work), then workers (in-flight jobs finish), queues, Redis, Prisma, the sandbox.
 */
export interface RunPipelineOptions {
  config: Config;
  logger: Logger;
  /** Where the dev state file goes (default `.leadsync/dev.json`, or LEADSYNC_DEV_STATE). */
  statePath?: string;
}

export async function runPipeline({ config: baseConfig, logger, statePath = devStatePath() }: RunPipelineOptions): Promise<Pipeline> {
  await preflight(baseConfig);
  const { applied } = await migrate(baseConfig.databaseUrl, { logger: logger.child({ component: "migrate" }) });
  logger.info({ applied }, applied.length ? "Migrations applied" : "Database schema is up to date");

  let sandbox: Sandbox | undefined;
  let config = baseConfig;
  if (baseConfig.hubspot.useSandbox) {
    sandbox = await startSandboxFor(baseConfig, logger);
    config = withSandbox(baseConfig, sandbox);
  }

  const prisma = createPrismaClient(config.databaseUrl);
  const producer = createRedisConnection(config.redisUrl, { role: "producer", connectionName: "leadsync-api" });
  const workerConnection = createRedisConnection(config.redisUrl, { role: "worker", connectionName: "leadsync-worker" });
  const queueOptions = { connection: producer, prefix: config.queuePrefix, logger };
  const crmOutbound = createQueue(QUEUES.crmOutbound, queueOptions);
  const hubspotEvents = createQueue(QUEUES.hubspotEvents, queueOptions);

  const app = buildApiApp({ config, prisma, connection: producer, queues: { crmOutbound, hubspotEvents }, logger });
  // The receiver shares the port with the API (CONTRACT.md); in production it can run alone (apps/receiver).
  await app.register(receiverPlugin, {
    queue: hubspotEvents,
    clientSecret: config.hubspot.clientSecret,
    apiUrl: config.apiUrl,
    bodyLimitBytes: config.webhookBodyLimitBytes,
  });
  await app.ready();

  const devJwt = signDevToken(config, DEMO_ORG_ID);
  let integrationId: string;
  try {
    integrationId = await connectDemoIntegration({ app, prisma, config, devJwt, sandbox, logger });
  } catch (error) {
    await app.close();
    await sandbox?.close();
    throw error;
  }

  await app.listen({ port: config.port, host: config.host });
  if (!config.isProduction) saveDevState(statePath, { config, devJwt, integrationId, sandbox });
  const workers = startWorkers({ config, prisma, connection: workerConnection, logger: logger.child({ component: "worker" }) });

  return {
    config,
    summary: {
      apiUrl: config.apiUrl,
      devJwt,
      bullBoard: config.bullBoard,
      sandbox: sandbox ? { url: sandbox.url, portalId: sandbox.portals()[0]!.portalId } : undefined,
      integrationId,
    },
    async close() {
      // Each step says what stopped, so Ctrl-C reads as a clean shutdown rather than an abort.
      await app.close();
      logger.info("Stopped the HTTP server (API, webhooks, Bull Board)");
      await workers.close();
      logger.info("Stopped the workers (jobs in progress finished)");
      await closeAll({ queues: [crmOutbound, hubspotEvents], connections: [producer, workerConnection] }, { timeoutMs: 10_000 });
      logger.info("Stopped the queues and Redis connections");
      await prisma.$disconnect();
      logger.info("Stopped using the database (connections closed)");
      if (sandbox) {
        await sandbox.close();
        logger.info("Stopped the HubSpot sandbox");
      }
    },
  };
}

/**
 * Records what this run started in the dev state file, so `pnpm cli` and other dev commands reach the same sandbox
 * (and the next `pnpm start` finds its demo integration). Other providers' entries are kept as they are.
 */
function saveDevState(path: string, run: { config: Config; devJwt: string; integrationId: string; sandbox: Sandbox | undefined }): void {
  const { config, sandbox } = run;
  const { version: _v, updatedAt: _u, ...current } = readDevState(path) ?? { version: 1, updatedAt: "", providers: {} };
  const providers: Record<string, DevProviderState> = { ...current.providers };
  if (sandbox) {
    const portal = sandbox.portals()[0]!;
    providers["hubspot"] = {
      url: sandbox.url,
      env: {
        HUBSPOT_API_BASE: sandbox.url,
        HUBSPOT_APP_ID: String(sandbox.app.appId),
        HUBSPOT_CLIENT_ID: sandbox.app.clientId,
        HUBSPOT_DEVELOPER_API_KEY: sandbox.app.developerApiKey,
      },
      // A private-app token in the environment means the real HubSpot.
      unlessEnv: ["HUBSPOT_ACCESS_TOKEN"],
      portalId: portal.portalId,
      accessToken: portal.accessToken,
      tier: portal.tier,
    };
  } else {
    delete providers["hubspot"];
  }
  writeDevState(path, {
    ...current,
    pid: process.pid,
    apiUrl: config.apiUrl,
    databaseName: new URL(config.databaseUrl).pathname.replace(/^\/+/, ""),
    queuePrefix: config.queuePrefix,
    devJwt: run.devJwt,
    demo: { integrationId: run.integrationId, provider: "hubspot", externalAccountId: sandbox ? String(sandbox.portals()[0]!.portalId) : "" },
    providers,
  });
}

async function startSandboxFor(config: Config, logger: Logger): Promise<Sandbox> {
  try {
    const sandbox = await startSandbox({
      port: config.hubspot.sandboxPort,
      host: config.host,
      clientSecret: config.hubspot.clientSecret,
      webhookTargetUrl: `${config.apiUrl}${HUBSPOT_WEBHOOK_PATH}`,
      logger: logger.child({ component: "sandbox" }),
    });
    sandbox.createPortal({ tier: "starter" });
    return sandbox;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new StartupError(`Port ${config.hubspot.sandboxPort} is in use: set HUBSPOT_SANDBOX_PORT to a free port for the HubSpot sandbox.`);
    }
    throw error;
  }
}

/** The sandbox stands in for HubSpot: its URL is the API base and its developer app manages the webhooks. */
function withSandbox(config: Config, sandbox: Sandbox): Config {
  return Object.freeze({
    ...config,
    hubspot: Object.freeze({
      ...config.hubspot,
      apiBase: sandbox.url,
      appId: String(sandbox.app.appId),
      clientId: sandbox.app.clientId,
      developerApiKey: sandbox.app.developerApiKey,
    }),
  });
}

/**
 * Connects org "demo" to HubSpot the way a customer does (setup guide steps 1 and 2): through the API, which checks
 * the token, creates the lead_source_system property and registers the webhooks. The sandbox forgets everything on
 * exit, so a previous run's integration for the same sandbox portal is replaced.
 */
async function connectDemoIntegration(input: {
  app: FastifyInstance;
  prisma: PrismaClient;
  config: Config;
  devJwt: string;
  sandbox: Sandbox | undefined;
  logger: Logger;
}): Promise<string> {
  const { app, prisma, config, devJwt, sandbox, logger } = input;
  const headers = { authorization: `Bearer ${devJwt}` };

  let accessToken: string;
  let portalId: string;
  if (sandbox) {
    const portal = sandbox.portals()[0]!;
    accessToken = portal.accessToken;
    portalId = String(portal.portalId);
    await prisma.crmIntegration.deleteMany({ where: { provider: "hubspot", externalAccountId: portalId } });
  } else {
    accessToken = config.hubspot.accessToken!;
    const client = createHubSpotClient({ accessToken, basePath: config.hubspot.apiBase });
    portalId = (await checkAccessToken(client)).portalId;
    const existing = await prisma.crmIntegration.findFirst({
      where: { provider: "hubspot", externalAccountId: portalId, orgId: DEMO_ORG_ID },
    });
    if (existing) return existing.id;
  }

  const created = await app.inject({
    method: "POST",
    url: "/api/v1/crm-integration",
    headers,
    payload: { provider: "hubspot", accessToken, portalId, tier: sandbox ? "starter" : undefined },
  });
  if (created.statusCode !== 201) {
    throw new StartupError(`Could not connect HubSpot portal ${portalId}: ${describeError(created.body)}`);
  }
  const integrationId = (created.json() as { data: { id: string } }).data.id;

  if (config.hubspot.appId && config.hubspot.developerApiKey) {
    const enabled = await app.inject({
      method: "POST",
      url: `/api/v1/crm-integration/${integrationId}/enable-webhooks`,
      headers,
      payload: { webhookUrl: `${config.apiUrl}${HUBSPOT_WEBHOOK_PATH}` },
    });
    if (enabled.statusCode !== 200) logger.warn({ status: enabled.statusCode, body: enabled.json() }, "Could not enable webhooks");
  }
  logger.info({ integrationId, portalId, orgId: DEMO_ORG_ID }, "HubSpot integration ready");
  return integrationId;
}

function describeError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? body;
  } catch {
    return body;
  }
}
