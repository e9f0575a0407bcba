import { randomUUID } from "node:crypto";
import { loadConfig } from "../../../packages/config/src/index.js";
import { encryptToken } from "../../../packages/core/src/index.js";
import { createPrismaClient, type CrmIntegration, type PrismaClient } from "../../../packages/db/src/index.js";
import { createTestDatabase, type TestDatabase } from "../../../packages/db/src/testing.js";
import { createHubSpotClient, ensureLeadSourceProperty } from "../../../packages/hubspot/src/index.js";
import { signV3, startSandbox, type Sandbox } from "../../../packages/hubspot-sandbox/src/index.js";
import { QUEUES, createQueueGroup, createRedisConnection, layoutFromConfig, type TypedQueue } from "../../../packages/queue/src/index.js";
import { cleanupPrefixEverywhere, uniqueQueuePrefix } from "../../helpers/redis.js";
import { startApp, stopAllProcesses, type AppName, type AppProcess } from "./processes.js";
import { freePort, until } from "../../helpers/ports.js";

/**
 * One fault scenario's world: a HubSpot sandbox whose webhooks go to a real receiver process, real worker
 * processes, a Postgres database and a Redis (the shared ones, or the test's own when it stops them), a unique
 * queue prefix and one integration for a sandbox portal.
 */

export const WEBHOOK_PATH = "/api/v1/webhooks/hubspot";

export interface FaultPipelineOptions {
  /** A database this test owns (e.g. on its own Postgres); default a fresh clone on the shared server. */
  databaseUrl?: string;
  /** Default the shared Redis. */
  redisUrl?: string;
  /** Env for every process started (timeouts, lock durations…). */
  env?: Record<string, string>;
  /** HubSpot's redelivery schedule (ms); default a fast one that still spans a few seconds of outage. */
  webhookRetryDelaysMs?: number[];
}

export interface FaultPipeline {
  sandbox: Sandbox;
  prisma: PrismaClient;
  portalId: number;
  integration: CrmIntegration;
  receiverUrl: string;
  webhookUrl: string;
  /** The env the processes get (DATABASE_URL, REDIS_URL, QUEUE_PREFIX, secrets…). */
  env: Record<string, string>;
  clientSecret: string;
  events: TypedQueue<typeof QUEUES.crmChanges>;
  redis: ReturnType<typeof createRedisConnection>;
  start(app: AppName, extraEnv?: Record<string, string>, name?: string): Promise<AppProcess>;
  /** A worker process, resolved once it is taking jobs. */
  startWorker(name?: string, extraEnv?: Record<string, string>): Promise<AppProcess>;
  /** Worker processes started and still running. */
  workers(): AppProcess[];
  /** Contacts created as a person would in HubSpot's UI (webhooks fire). */
  createContacts(contacts: Record<string, string>[]): Promise<string[]>;
  updateContact(contactId: string, properties: Record<string, string>): Promise<void>;
  fault(fault: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  /** Posts events signed (v3) as HubSpot does; the HTTP status and body. */
  post(events: readonly Record<string, unknown>[], init?: { body?: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }>;
  /** Leads of the integration's org, by email: fields and how many rows share the email (duplicates). */
  leads(): Promise<Map<string, { firstName: string | null; lastName: string | null; jobTitle: string | null; phone: string | null; rows: number }>>;
  /** The sandbox has nothing to deliver and the queue nothing waiting, delayed or active. */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultPipeline(options: FaultPipelineOptions = {}): Promise<FaultPipeline> {
  const clientSecret = `fault-secret-${randomUUID()}`;
  const prefix = uniqueQueuePrefix();
  const redisUrl = options.redisUrl ?? process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
  const testDb: TestDatabase | undefined = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? testDb?.url ?? "";
  const prisma = testDb?.prisma ?? createPrismaClient(databaseUrl);
  const receiverPort = await freePort();
  const receiverUrl = `http://127.0.0.1:${receiverPort}`;
  const webhookUrl = `${receiverUrl}${WEBHOOK_PATH}`;
  const sandbox = await startSandbox({
    clientSecret,
    port: 0,
    webhookFlushMs: 20,
    webhookTargetUrl: webhookUrl,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? [200, 500, 1000, 2000, 3000, 5000, 8000],
  });
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    PORT: String(receiverPort),
    HOST: "127.0.0.1",
    API_URL: receiverUrl,
    HUBSPOT_CLIENT_SECRET: clientSecret,
    HUBSPOT_CLIENT_ID: sandbox.app.clientId,
    HUBSPOT_API_BASE: sandbox.url,
    INBOUND_BATCH_WINDOW_MS: "30",
    WORKER_CONCURRENCY: "16",
    WORKER_LOCK_DURATION_MS: "2000",
    WORKER_STALLED_INTERVAL_MS: "1000",
    HUBSPOT_REQUEST_TIMEOUT_MS: "2000",
    WORKER_METRICS_PORT: "0",
    ...options.env,
  };
  const config = loadConfig({ ...env, NODE_ENV: "test" });

  const portal = sandbox.createPortal({ tier: "professional" });
  await ensureLeadSourceProperty(createHubSpotClient({ accessToken: portal.accessToken, basePath: sandbox.url }), config.leadSourceMarker);
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const integration = await prisma.crmIntegration.create({
    data: {
      orgId,
      provider: "hubspot",
      externalAccountId: String(portal.portalId),
      tier: portal.tier,
      accessTokenEnc: encryptToken(portal.accessToken, config.encryptionKey),
      webhooksEnabled: true,
    },
  });

  // Test-side handles on the same Redis: to inspect the queue and delete the prefix afterwards.
  // On a cluster (REDIS_CLUSTER_NODES in `env`), the processes' layout: every shard and lane is watched.
  const redis = createRedisConnection(config.redis, { role: "worker", connectionName: "fault-suite" });
  redis.on("error", () => undefined); // the Redis-down scenario stops it on purpose
  const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
  const layout = layoutFromConfig(config);
  const eventQueues = createQueueGroup(QUEUES.crmChanges, { connection: redis, layout, logger: quiet });
  const events = eventQueues.route(`hubspot:${portal.portalId}`);

  async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`sandbox ${method} ${path} → ${response.status}: ${await response.text()}`);
    return (await response.json().catch(() => ({}))) as T;
  }

  const workerProcesses: AppProcess[] = [];
  async function start(app: AppName, extraEnv: Record<string, string> = {}, name?: string): Promise<AppProcess> {
    const child = startApp(app, { ...env, ...extraEnv }, name ?? app);
    if (app === "worker") workerProcesses.push(child);
    if (app === "worker") await child.waitForLine(/Workers started/);
    else {
      const port = extraEnv["PORT"] ?? env["PORT"];
      await until(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, `${child.name} /health`, 20_000);
    }
    return child;
  }

  return {
    sandbox,
    prisma,
    portalId: portal.portalId,
    integration,
    receiverUrl,
    webhookUrl,
    env,
    clientSecret,
    events,
    redis,
    start,
    startWorker: (name = "worker", extraEnv = {}) => start("worker", extraEnv, name),
    workers: () => workerProcesses.filter((w) => w.running()),
    async createContacts(contacts) {
      const { ids } = await admin<{ ids: string[] }>("POST", `/__sandbox/portals/${portal.portalId}/contacts`, {
        contacts: contacts.map((properties) => ({ properties })),
      });
      return ids;
    },
    async updateContact(contactId, properties) {
      await admin("PATCH", `/__sandbox/portals/${portal.portalId}/contacts/${contactId}`, { properties });
    },
    async fault(fault) {
      await admin("POST", "/__sandbox/faults", { portalId: portal.portalId, ...fault });
    },
    async clearFaults() {
      await fetch(`${sandbox.url}/__sandbox/faults`, { method: "DELETE" });
    },
    async post(batch, init = {}) {
      const body = init.body ?? JSON.stringify(batch);
      const timestamp = Date.now();
      const response = await fetch(webhookUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hubspot-signature-v3": signV3(clientSecret, "POST", webhookUrl, body, timestamp),
          "x-hubspot-request-timestamp": String(timestamp),
          ...init.headers,
        },
        body,
      });
      return { status: response.status, body: await response.text() };
    },
    async leads() {
      const rows = await prisma.lead.findMany({ where: { orgId }, select: { email: true, firstName: true, lastName: true, jobTitle: true, phone: true } });
      const byEmail = new Map<string, { firstName: string | null; lastName: string | null; jobTitle: string | null; phone: string | null; rows: number }>();
      for (const row of rows) {
        const email = row.email.toLowerCase();
        const seen = byEmail.get(email);
        byEmail.set(email, { firstName: row.firstName, lastName: row.lastName, jobTitle: row.jobTitle, phone: row.phone, rows: (seen?.rows ?? 0) + 1 });
      }
      return byEmail;
    },
    async settled(timeoutMs = 30_000) {
      await sandbox.webhooksIdle(timeoutMs);
      await until(
        async () => {
          const all = await Promise.all(eventQueues.queues.map((queue) => queue.getJobCounts("active", "waiting", "delayed", "prioritized")));
          const counts = all.flatMap((c) => Object.values(c));
          return counts.every((n) => n === 0);
        },
        "an idle queue",
        timeoutMs,
      );
    },
    async close() {
      await stopAllProcesses();
      await sandbox.close().catch(() => undefined);
      await Promise.all(eventQueues.queues.map((queue) => queue.close().catch(() => undefined)));
      if (redis.status === "ready") await cleanupPrefixEverywhere(redis, prefix);
      redis.disconnect();
      if (testDb) await testDb.drop();
      else await prisma.$disconnect();
    },
  };
}

/** Leads whose email appears more than once. */
export function duplicatesOf(leads: Map<string, { rows: number }>): number {
  return [...leads.values()].filter((lead) => lead.rows > 1).length;
}
