import { randomUUID } from "node:crypto";
import { signDevToken } from "../../../apps/api/src/dev-token.js";
import { buildApiApp } from "../../../apps/api/src/index.js";
import { createLogger, loadConfig } from "../../../packages/config/src/index.js";
import type { PrismaClient } from "../../../packages/db/src/index.js";
import { createTestDatabase, type TestDatabase } from "../../../packages/db/src/testing.js";
import { QUEUES, closeAll, createQueue, createRedisConnection, type TypedQueue } from "../../../packages/queue/src/index.js";
import { startSalesforceSandbox, type SalesforceSandbox } from "../../../packages/salesforce-sandbox/src/index.js";
import { cleanupPrefix, uniqueQueuePrefix } from "../../helpers/redis.js";
import { startApp, stopAllProcesses, type AppProcess } from "./processes.js";

/**
 * A Salesforce fault scenario's world: the Salesforce emulator (REST + Pub/Sub gRPC, in this process so the test can
 * see its live subscriptions), a fresh Postgres database, a unique queue prefix, one org connected the way a
 * customer does it (POST /api/v1/crm-integration + enable-webhooks, through the API app in this process), and real
 * worker processes (`apps/worker/src/main.ts`, as `pnpm start:worker` runs it) that subscribe to the org's CDC feed.
 */

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

export interface SalesforceFaultPipeline {
  sandbox: SalesforceSandbox;
  prisma: PrismaClient;
  /** The emulator's org id (the integration's externalAccountId). */
  accountId: string;
  integrationId: string;
  orgId: string;
  /** The env every worker gets. */
  env: Record<string, string>;
  changes: TypedQueue<typeof QUEUES.crmChanges>;
  startWorker(name: string, extraEnv?: Record<string, string>): Promise<AppProcess>;
  /** Leads created in Salesforce's UI (admin route: a person, changeOrigin ""); their ids. */
  createLeads(records: Record<string, string>[]): Promise<string[]>;
  /** A person's edit in the UI. */
  updateLead(id: string, fields: Record<string, string>): Promise<void>;
  /** The org's change log (every retained LeadChangeEvent): replay ids as decimal strings. */
  changeLog(): Promise<ChangeLogEntry[]>;
  /** Pub/Sub Subscribe streams the emulator holds open for this org right now. */
  liveSubscriptions(): number;
  /** The most streams the emulator held open for this org at once since the start (checked on every new one). */
  peakSubscriptions(): number;
  /** webhook_events rows (the claims) of the integration, eventId decoded to the decimal replay id. */
  claims(): Promise<{ replayId: string; objectId: string; outcome: string; reason: string | null }[]>;
  /** Leads of the org by email: fields and how many rows share the email. */
  leads(): Promise<Map<string, { firstName: string | null; lastName: string | null; jobTitle: string | null; phone: string | null; rows: number }>>;
  close(): Promise<void>;
}

export interface ChangeLogEntry {
  replayId: string;
  changeType: string;
  changeOrigin: string;
  recordIds: string[];
  fields: Record<string, unknown>;
}

/** webhook_events.event_id of a Salesforce change is the replay id's 8 bytes, base64: back to the emulator's decimal. */
export function replayIdOf(eventId: string): string {
  const bytes = Buffer.from(eventId, "base64");
  return bytes.length === 8 ? bytes.readBigUInt64BE().toString() : `?${eventId}`;
}

export async function startSalesforceFaultPipeline(options: { env?: Record<string, string> } = {}): Promise<SalesforceFaultPipeline> {
  const sandbox = await startSalesforceSandbox({ port: 0, grpcPort: 0 });
  const prefix = uniqueQueuePrefix();
  const db: TestDatabase = await createTestDatabase();
  const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    HOST: "127.0.0.1",
    API_URL: "http://127.0.0.1:9", // no receiver: Salesforce's feed is pulled
    SALESFORCE_LOGIN_URL: sandbox.url,
    SALESFORCE_PUBSUB_URL: `grpc://${sandbox.grpcUrl ?? ""}`,
    SALESFORCE_CLIENT_ID: sandbox.state.options.clientId,
    SALESFORCE_CLIENT_SECRET: sandbox.state.options.clientSecret,
    FEED_LEASE_INTERVAL_MS: "200",
    // Only the feed may bring changes in: a missed event cannot be papered over by a periodic reconciliation.
    RECONCILE_INTERVAL_MS: "0",
    INBOUND_BATCH_WINDOW_MS: "30",
    WORKER_CONCURRENCY: "16",
    WORKER_LOCK_DURATION_MS: "2000",
    WORKER_STALLED_INTERVAL_MS: "1000",
    WORKER_METRICS_PORT: "0",
    ...options.env,
  };
  const config = loadConfig({ ...env, NODE_ENV: "test" });

  // Connect the org through the API (in this process, no port): connect body → integration, then the feed on.
  const redis = createRedisConnection(redisUrl, { role: "worker", connectionName: "sf-fault-suite" });
  const changes = createQueue(QUEUES.crmChanges, { connection: redis, prefix, logger: quiet });
  const outbound = createQueue(QUEUES.crmOutbound, { connection: redis, prefix, logger: quiet });
  const api = buildApiApp({ config, prisma: db.prisma, connection: redis, queues: { crmOutbound: outbound, crmChanges: changes }, logger: createLogger({ name: "api", level: "silent", pretty: false }) });
  const orgId = `org-sf-faults-${randomUUID().slice(0, 8)}`;
  const authorization = `Bearer ${signDevToken(config, orgId)}`;
  const account = (await admin<{ accountId: string; connect: Record<string, unknown> }>(sandbox, "POST", "/__sandbox/accounts", {})).json;
  const connected = await api.inject({ method: "POST", url: "/api/v1/crm-integration", headers: { authorization }, payload: account.connect });
  if (connected.statusCode !== 201) throw new Error(`connecting the Salesforce org failed: ${connected.statusCode} ${connected.body}`);
  const integrationId = (connected.json() as { data: { id: string } }).data.id;
  const enabled = await api.inject({ method: "POST", url: `/api/v1/crm-integration/${integrationId}/enable-webhooks`, headers: { authorization }, payload: {} });
  if (enabled.statusCode !== 200) throw new Error(`enable-webhooks failed: ${enabled.statusCode} ${enabled.body}`);
  await api.close();
  const accountId = account.accountId;
  const liveSubscriptions = () => [...sandbox.state.subscriptions].filter((s) => s.orgId === accountId).length;
  // Every stream the emulator registers passes here: an overlap of two, however brief, is seen.
  let peak = 0;
  const subscriptions = sandbox.state.subscriptions;
  const register = subscriptions.add.bind(subscriptions);
  subscriptions.add = (registration) => {
    register(registration);
    peak = Math.max(peak, liveSubscriptions());
    return subscriptions;
  };
  const records = `/__sandbox/accounts/${accountId}/records`;

  return {
    sandbox,
    prisma: db.prisma,
    accountId,
    integrationId,
    orgId,
    env,
    changes,
    async startWorker(name, extraEnv = {}) {
      const child = startApp("worker", { ...env, ...extraEnv }, name);
      await child.waitForLine(/Workers started/, 30_000);
      return child;
    },
    async createLeads(bodies) {
      const created = await admin<{ ids: string[] }>(sandbox, "POST", records, { records: bodies });
      if (created.status !== 201) throw new Error(`creating leads failed: ${created.status} ${JSON.stringify(created.json)}`);
      return created.json.ids;
    },
    async updateLead(id, fields) {
      const updated = await admin(sandbox, "PATCH", `${records}/${id}`, fields);
      if (updated.status >= 300) throw new Error(`updating lead ${id} failed: ${updated.status} ${JSON.stringify(updated.json)}`);
    },
    async changeLog() {
      return (await admin<{ events: ChangeLogEntry[] }>(sandbox, "GET", `/__sandbox/accounts/${accountId}/events`)).json.events;
    },
    liveSubscriptions,
    peakSubscriptions: () => peak,
    async claims() {
      const rows = await db.prisma.webhookEvent.findMany({ where: { integrationId }, select: { eventId: true, objectId: true, outcome: true, reason: true } });
      return rows.map((r) => ({ replayId: replayIdOf(r.eventId), objectId: r.objectId, outcome: r.outcome, reason: r.reason }));
    },
    async leads() {
      const rows = await db.prisma.lead.findMany({ where: { orgId }, select: { email: true, firstName: true, lastName: true, jobTitle: true, phone: true } });
      const byEmail = new Map<string, { firstName: string | null; lastName: string | null; jobTitle: string | null; phone: string | null; rows: number }>();
      for (const row of rows) {
        const email = row.email.toLowerCase();
        byEmail.set(email, { firstName: row.firstName, lastName: row.lastName, jobTitle: row.jobTitle, phone: row.phone, rows: (byEmail.get(email)?.rows ?? 0) + 1 });
      }
      return byEmail;
    },
    async close() {
      await stopAllProcesses();
      await sandbox.close().catch(() => undefined);
      await cleanupPrefix(redis, prefix).catch(() => undefined);
      await closeAll({ queues: [changes, outbound], connections: [redis] }, { timeoutMs: 5_000 }).catch(() => undefined);
      await db.drop();
    },
  };
}

async function admin<T = unknown>(sandbox: SalesforceSandbox, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
}

