import { devStatePath, readDevState, setDevProvider, updateDevState, type Config, type DevProviderState, type Logger } from "@leadsync/config";
import { buildApiApp, signDevToken } from "@leadsync/api";
import { createPrismaClient, migrate, type PrismaClient } from "@leadsync/db";
import { checkAccessToken, createHubSpotClient } from "@leadsync/hubspot";
import { startSandbox, type Sandbox, type SnapshotStatus } from "@leadsync/hubspot-sandbox";
import { closeAll, createQueueGroup, createRedisConnection, layoutFromConfig, QUEUES } from "@leadsync/queue";
import { receiverPlugin, HUBSPOT_WEBHOOK_PATH } from "@leadsync/receiver";
import { startWorkers } from "@leadsync/worker";
import type { FastifyInstance } from "fastify";
import { dirname, join } from "node:path";
import type { PipelineSummary } from "./banner.js";
import { assertPortsFree, preflight, StartupError, type PlannedPort } from "./preflight.js";
import { describeError, emulatorTarget, ensureDemoIntegration, hubspotTarget, type EmulatorDemo } from "./connect-emulators.js";
import { DEV_EMULATORS, emulatorDevEntry, emulatorsToStart, startEmulator, withEmulators, type DevEmulatorDef, type RunningEmulator } from "./emulators.js";

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
  const emulatorDefs = emulatorsToStart(baseConfig);
  await assertPortsFree(baseConfig.host, plannedPorts(baseConfig, emulatorDefs));
  const { applied } = await migrate(baseConfig.databaseUrl, { logger: logger.child({ component: "migrate" }) });
  logger.info({ applied }, applied.length ? "Migrations applied" : "Database schema is up to date");

  const prisma = createPrismaClient(baseConfig.databaseUrl);
  // The emulators' state lives beside the dev state file (.leadsync/sandboxes/<provider>.json), so a restart finds the
  // accounts, records and feeds the database points at. Never in production (no emulators run there).
  const previous = baseConfig.isProduction ? undefined : readDevState(statePath);
  const snapshotPath = (provider: string) => (baseConfig.isProduction ? undefined : join(dirname(statePath), "sandboxes", `${provider}.json`));
  let sandbox: Sandbox | undefined;
  let config = baseConfig;
  if (baseConfig.hubspot.useSandbox) {
    sandbox = await startSandboxFor(baseConfig, logger, snapshotPath("hubspot"));
    config = withSandbox(baseConfig, sandbox);
    logSnapshot(logger, "HubSpot sandbox", sandbox.snapshot);
  }

  // Every emulator is listening, and the config points at it, before the API and the workers are built from it.
  const emulators: { def: DevEmulatorDef; running: RunningEmulator }[] = [];
  try {
    for (const def of emulatorDefs) {
      const running = await startEmulator(def, config, snapshotPath(def.provider));
      emulators.push({ def, running });
      logSnapshot(logger, `${def.displayName} emulator`, running.snapshot);
    }
  } catch (error) {
    await closeEmulators(emulators, sandbox);
    throw error;
  }
  config = withEmulators(config, Object.fromEntries(emulators.map(({ def, running }) => [def.provider, running.settings])));

  const producer = createRedisConnection(config.redis, { role: "producer", connectionName: "leadsync-api" });
  const workerConnection = createRedisConnection(config.redis, { role: "worker", connectionName: "leadsync-worker" });
  const queueOptions = { connection: producer, layout: layoutFromConfig(config), logger };
  const crmOutbound = createQueueGroup(QUEUES.crmOutbound, queueOptions);
  const crmChanges = createQueueGroup(QUEUES.crmChanges, queueOptions);

  const app = buildApiApp({ config, prisma, connection: producer, queues: { crmOutbound, crmChanges }, logger });
  // The receiver shares the port with the API (CONTRACT.md); in production it can run alone (apps/receiver).
  await app.register(receiverPlugin, {
    queue: crmChanges,
    config,
    bodyLimitBytes: config.webhookBodyLimitBytes,
    waitReplicas: { count: config.redisWaitReplicas, timeoutMs: config.redisWaitTimeoutMs },
  });
  await app.ready();

  const devJwt = signDevToken(config, DEMO_ORG_ID);
  const headers = { authorization: `Bearer ${devJwt}` };
  let hubspotDemo: { integrationId: string; portalId: string; note: string | undefined };
  const demos: EmulatorDemo[] = [];
  try {
    if (sandbox) {
      const demo = await ensureDemoIntegration({
        app,
        prisma,
        headers,
        orgId: DEMO_ORG_ID,
        target: hubspotTarget(sandbox.url, `${config.apiUrl}${HUBSPOT_WEBHOOK_PATH}`),
        previous: previous?.demo,
        logger,
      });
      hubspotDemo = { integrationId: demo.integrationId, portalId: demo.accountId, note: demoNote(demo, sandbox.snapshot) };
      logger.info({ integrationId: demo.integrationId, portalId: demo.accountId, orgId: DEMO_ORG_ID, kept: demo.kept }, "HubSpot integration ready");
    } else {
      hubspotDemo = { ...(await connectRealHubSpot({ app, prisma, config, headers, logger })), note: undefined };
    }
    for (const { def, running } of emulators) {
      const demo = await ensureDemoIntegration({
        app,
        prisma,
        headers,
        orgId: DEMO_ORG_ID,
        target: emulatorTarget(def.provider, def.displayName, running.url),
        previous: previous?.providers[def.provider],
        logger,
      });
      demos.push(demo);
      logger.info({ provider: def.provider, integrationId: demo.integrationId, accountId: demo.accountId, orgId: DEMO_ORG_ID, kept: demo.kept }, `${def.displayName} integration ready`);
    }
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    await closeEmulators(emulators, sandbox);
    if (isPortTaken(error)) throw new StartupError(`Port ${config.port} (the API) is in use: set PORT to a free port.`);
    throw error;
  }
  const { integrationId, portalId } = hubspotDemo;

  if (!config.isProduction) {
    saveDevState(statePath, { config, devJwt, integrationId, portalId, sandbox });
    // Providers with credentials this run (or none at all) must not keep pointing dev commands at a stopped emulator.
    for (const def of DEV_EMULATORS) {
      const index = emulators.findIndex((e) => e.def === def);
      setDevProvider(statePath, def.provider, index < 0 ? undefined : emulatorDevEntry(def, emulators[index]!.running, demos[index]!));
    }
  }
  const workers = startWorkers({ config, prisma, connection: workerConnection, logger: logger.child({ component: "worker" }) });

  return {
    config,
    summary: {
      apiUrl: config.apiUrl,
      devJwt,
      bullBoard: config.bullBoard,
      sandbox: sandbox ? { url: sandbox.url, portalId: Number(portalId) } : undefined,
      integrationId,
      integrationNote: hubspotDemo.note,
      crms: emulators.map(({ def, running }, index) => ({
        provider: def.provider,
        displayName: def.displayName,
        recordName: def.recordName,
        url: running.url,
        extra: running.extra,
        accountId: demos[index]!.accountId,
        integrationId: demos[index]!.integrationId,
        note: demoNote(demos[index]!, running.snapshot),
        createBody: def.createBody,
      })),
      crmsWithCredentials: config.isProduction ? [] : DEV_EMULATORS.filter((def) => !emulatorDefs.includes(def)).map((def) => ({ displayName: def.displayName, vars: def.credentialVars })),
    },
    async close() {
      // Each step says what stopped, so Ctrl-C reads as a clean shutdown rather than an abort.
      // close() waits for connections still busy; the emulators' webhook deliveries keep some alive (keep-alive,
      // retries). Past a short grace they are cut: in-flight webhooks are redelivered by the CRM anyway.
      const appClosed = app.close();
      if (!(await settlesWithin(appClosed, HTTP_CLOSE_GRACE_MS))) {
        logger.warn(`The HTTP server still has open connections after ${HTTP_CLOSE_GRACE_MS} ms: closing them`);
        app.server.closeAllConnections();
        // Something else (an onClose hook) may still hold it: the rest of the shutdown must not wait forever on it.
        if (!(await settlesWithin(appClosed, HTTP_CLOSE_GRACE_MS))) logger.warn("The HTTP server is still closing; stopping the rest");
      } else await appClosed;
      logger.info("Stopped the HTTP server (API, webhooks, Bull Board)");
      // The emulators stay up while jobs in progress finish against them. But a Salesforce feed subscription caught
      // half-way (its token fetched as the stop began) opens a stream that close() no longer aborts, and waits on it:
      // if the workers are not done soon, the emulators stop first, which ends that stream.
      const workersClosed = workers.close();
      let emulatorsClosed = false;
      if (!(await settlesWithin(workersClosed, WORKER_CLOSE_GRACE_MS))) {
        logger.warn(`The workers are still stopping after ${WORKER_CLOSE_GRACE_MS} ms: stopping the CRM emulators first (an open change-feed stream holds them)`);
        await closeEmulators(emulators, sandbox, logger);
        emulatorsClosed = true;
      }
      await workersClosed;
      logger.info("Stopped the workers (jobs in progress finished)");
      await closeAll({ queues: [...crmOutbound.queues, ...crmChanges.queues], connections: [producer, workerConnection] }, { timeoutMs: 10_000 });
      // The sockets' last "close" events (a worker logging "Connection is closed.") land a moment later: before the
      // final line, not after it.
      await new Promise((resolve) => setTimeout(resolve, 100));
      logger.info("Stopped the queues and Redis connections");
      await prisma.$disconnect();
      logger.info("Stopped using the database (connections closed)");
      if (!emulatorsClosed) await closeEmulators(emulators, sandbox, logger);
    },
  };
}

/**
 * Records what this run started in the dev state file, so `pnpm cli` and other dev commands reach the same sandbox
 * (and the next `pnpm start` finds its demo integration). Other providers' entries are kept as they are.
 */
function saveDevState(path: string, run: { config: Config; devJwt: string; integrationId: string; portalId: string; sandbox: Sandbox | undefined }): void {
  const { config, sandbox } = run;
  // One entry per emulator (the Salesforce, Zoho and Pipedrive emulators add theirs the same way).
  setDevProvider(path, "hubspot", sandbox ? hubspotSandboxEntry(sandbox, run.portalId) : undefined);
  updateDevState(path, {
    pid: process.pid,
    apiUrl: config.apiUrl,
    databaseName: new URL(config.databaseUrl).pathname.replace(/^\/+/, ""),
    queuePrefix: config.queuePrefix,
    devJwt: run.devJwt,
    demo: { integrationId: run.integrationId, provider: "hubspot", externalAccountId: run.portalId },
  });
}

/** Every port this run will listen on, with the variable that moves it (checked before anything starts). */
function plannedPorts(config: Config, defs: readonly DevEmulatorDef[]): PlannedPort[] {
  const ports: PlannedPort[] = [{ port: config.port, envVar: "PORT", what: "the API, webhooks and Bull Board" }];
  if (config.hubspot.useSandbox) ports.push({ port: config.hubspot.sandboxPort, envVar: "HUBSPOT_SANDBOX_PORT", what: "the HubSpot sandbox" });
  for (const def of defs) {
    for (const { port, what } of def.ports(config.providers[def.provider]?.sandboxPort ?? 0)) {
      ports.push({ port, envVar: def.portVar, what: `the ${def.displayName} emulator's ${what}` });
    }
  }
  return ports;
}

/** Stops the CRM emulators (each said by name: Ctrl-C reads as a clean shutdown), then the HubSpot sandbox. */
async function closeEmulators(emulators: readonly { def: DevEmulatorDef; running: RunningEmulator }[], sandbox: Sandbox | undefined, logger?: Logger): Promise<void> {
  for (const { def, running } of emulators) {
    await running.close();
    logger?.info(`Stopped the ${def.displayName} emulator`);
  }
  if (sandbox) {
    await sandbox.close();
    logger?.info("Stopped the HubSpot sandbox");
  }
}

/** How long Ctrl-C waits for open HTTP connections before it cuts them. */
const HTTP_CLOSE_GRACE_MS = 2_000;

/** How long Ctrl-C waits for the workers before it stops the emulators under them (see close()). */
const WORKER_CLOSE_GRACE_MS = 3_000;

/** Whether `promise` settles within `ms` (it keeps running either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isPortTaken(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "EADDRINUSE";
}

/** The sandbox as the dev state records it: the variables that point a process at it, and its portal (for a restart). */
function hubspotSandboxEntry(sandbox: Sandbox, portalId: string): DevProviderState {
  const portal = sandbox.portals().find((p) => String(p.portalId) === portalId)!;
  return {
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
}

async function startSandboxFor(config: Config, logger: Logger, snapshotPath: string | undefined): Promise<Sandbox> {
  try {
    return await startSandbox({
      port: config.hubspot.sandboxPort,
      host: config.host,
      clientSecret: config.hubspot.clientSecret,
      webhookTargetUrl: `${config.apiUrl}${HUBSPOT_WEBHOOK_PATH}`,
      logger: logger.child({ component: "sandbox" }),
      ...(snapshotPath && { snapshotPath }),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new StartupError(`Port ${config.hubspot.sandboxPort} is in use: set HUBSPOT_SANDBOX_PORT to a free port for the HubSpot sandbox.`);
    }
    throw error;
  }
}

/** One line per emulator on where its state comes from: the last run's snapshot, or an empty start and why. */
function logSnapshot(logger: Logger, name: string, status: SnapshotStatus | undefined): void {
  if (!status) return;
  if (status.restored) logger.info({ path: status.path }, `${name}: state of the last run loaded`);
  else if (status.reason === "missing") logger.info({ path: status.path }, `${name}: no saved state, starting empty`);
  // A broken file is worth a look, but the emulator starts empty and everything works.
  else logger.warn({ path: status.path, detail: status.detail }, `${name}: saved state unusable, starting empty`);
}

/** The banner's line under a demo integration: kept or new, and why. */
function demoNote(demo: EmulatorDemo, snapshot: SnapshotStatus | undefined): string {
  const where = snapshot ? ` (emulator state: ${snapshot.path})` : "";
  if (demo.kept) return `kept from the last run: same id, settings and links${where}`;
  if (demo.retired > 0) return `new: the last run's integration was retired, the emulator no longer having its account (its state was not kept); its leads stay${where}`;
  return `new${where}`;
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
 * A real HubSpot portal (HUBSPOT_ACCESS_TOKEN set): org "demo" is connected to it once, through the API (setup guide
 * steps 1 and 2: the token is checked, lead_source_system created, the webhooks registered), and kept afterwards.
 */
async function connectRealHubSpot(input: { app: FastifyInstance; prisma: PrismaClient; config: Config; headers: Record<string, string>; logger: Logger }): Promise<{ integrationId: string; portalId: string }> {
  const { app, prisma, config, headers, logger } = input;
  const accessToken = config.hubspot.accessToken!;
  const client = createHubSpotClient({ accessToken, basePath: config.hubspot.apiBase });
  const portalId = (await checkAccessToken(client)).portalId;
  const existing = await prisma.crmIntegration.findFirst({ where: { provider: "hubspot", externalAccountId: portalId, orgId: DEMO_ORG_ID } });
  if (existing) return { integrationId: existing.id, portalId };

  const created = await app.inject({ method: "POST", url: "/api/v1/crm-integration", headers, payload: { provider: "hubspot", accessToken, portalId } });
  if (created.statusCode !== 201) throw new StartupError(`Could not connect HubSpot portal ${portalId}: ${describeError(created.body)}`);
  const integrationId = (created.json() as { data: { id: string } }).data.id;
  if (config.hubspot.appId && config.hubspot.developerApiKey) {
    const enabled = await app.inject({ method: "POST", url: `/api/v1/crm-integration/${integrationId}/enable-webhooks`, headers, payload: { webhookUrl: `${config.apiUrl}${HUBSPOT_WEBHOOK_PATH}` } });
    if (enabled.statusCode !== 200) logger.warn({ status: enabled.statusCode, body: enabled.json() }, "Could not enable webhooks");
  }
  logger.info({ integrationId, portalId, orgId: DEMO_ORG_ID }, "HubSpot integration ready");
  return { integrationId, portalId };
}
