import { randomUUID } from "node:crypto";
// Root-level tests are not a workspace package: workspace code is imported from its source.
import { loadConfig, type Config } from "../../packages/config/src/index.js";
import type { PrismaClient } from "../../packages/db/src/index.js";
import { createTestDatabase, type TestDatabase } from "../../packages/db/src/testing.js";
import { QUEUES, closeAll, createQueue, createQueueGroup, createRedisConnection, layoutFromConfig, singleQueueGroup, type TypedQueue } from "../../packages/queue/src/index.js";
import { buildApiApp } from "../../apps/api/src/index.js";
import { signDevToken } from "../../apps/api/src/dev-token.js";
import { receiverPlugin } from "../../apps/receiver/src/index.js";
import { startWorkers, type RunningWorkers } from "../../apps/worker/src/index.js";
import { capturingLogger, type LogLine } from "../../apps/worker/test/helpers/log-capture.js";
import { freePort } from "../helpers/ports.js";
import { cleanupPrefixEverywhere, uniqueQueuePrefix } from "../helpers/redis.js";
import type { ProviderKit, RunningEmulator } from "./kit.js";

/**
 * The whole pipeline for one CRM emulator on 127.0.0.1: emulator → its change feed (webhooks to the receiver, or
 * the worker's pulled subscription) → crm-changes → workers → a fresh Postgres database; the platform API on the same
 * port, and an integration connected the way a customer does it: POST /api/v1/crm-integration with the emulator's
 * `connect` body, then enable-webhooks. Everything through the emulator's uniform admin routes (CONTRACT.md).
 */

export interface ProviderWorld {
  kit: ProviderKit;
  config: Config;
  prisma: PrismaClient;
  emulator: RunningEmulator;
  accountId: string;
  integrationId: string;
  orgId: string;
  logs: LogLine[];
  /** The queues the receiver and the API add to (producer side): job counts and states for the tests. */
  queues: { crmChanges: TypedQueue<typeof QUEUES.crmChanges>; crmOutbound: TypedQueue<typeof QUEUES.crmOutbound> };
  /** The platform API with the org's JWT; returns status and JSON. */
  api<T = { success: boolean; data: any; error?: { code: string; message: string } }>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** The emulator's admin routes (no API budget). */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** A record created as a person would in the CRM's UI; returns its id. */
  createRecord(fields: LeadFieldsInput): Promise<string>;
  updateRecord(id: string, fields: LeadFieldsInput): Promise<void>;
  deleteRecord(id: string): Promise<void>;
  /** The CRM's records with this email, as lead fields (plus the marker). */
  findRecords(email: string): Promise<RecordView[]>;
  stats(): Promise<{ calls: { total: number; byEndpoint: Record<string, number> } }>;
  close(): Promise<void>;
}

export interface LeadFieldsInput {
  email?: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  company?: string;
  jobTitle?: string;
}

export interface RecordView extends LeadFieldsInput {
  id: string;
  marker: string | null;
}

export interface ProviderWorldOptions {
  /** LeadSync environment on top of the harness's (e.g. FEED_MAINTENANCE_INTERVAL_MS for a fast maintenance tick). */
  env?: Record<string, string>;
  /** Queues as production lays them out (shards, lanes), here or on a Redis Cluster; default one queue each. */
  queues?: { shards?: number; clusterNodes?: string };
}

export async function startProviderWorld(kit: ProviderKit, options: ProviderWorldOptions = {}): Promise<ProviderWorld> {
  const orgId = `org-${kit.name}-${randomUUID().slice(0, 8)}`;
  const prefix = uniqueQueuePrefix();
  const db: TestDatabase = await createTestDatabase();
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const emulator = await kit.start({ webhookBaseUrl: apiUrl });
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    DATABASE_URL: db.url,
    REDIS_URL: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
    QUEUE_PREFIX: prefix,
    API_URL: apiUrl,
    PORT: String(port),
    INBOUND_BATCH_WINDOW_MS: "30",
    WORKER_CONCURRENCY: "16",
    RECONCILE_INTERVAL_MS: "0",
    FEED_LEASE_INTERVAL_MS: "200",
    ...emulator.env,
    ...(options.queues?.shards === undefined ? {} : { QUEUE_SHARDS: String(options.queues.shards) }),
    ...(options.queues?.clusterNodes === undefined ? {} : { REDIS_CLUSTER_NODES: options.queues.clusterNodes }),
    ...options.env,
  });
  const { logger, lines } = capturingLogger();
  const producer = createRedisConnection(config.redis, { role: "producer" });
  const workerConnection = createRedisConnection(config.redis, { role: "worker" });
  const laidOut = options.queues !== undefined;
  const groupOf = <Q extends typeof QUEUES.crmChanges | typeof QUEUES.crmOutbound>(name: Q) =>
    laidOut ? createQueueGroup(name, { connection: producer, layout: layoutFromConfig(config), logger }) : singleQueueGroup(createQueue(name, { connection: producer, prefix, logger }));
  const changeQueues = groupOf(QUEUES.crmChanges);
  const outboundQueues = groupOf(QUEUES.crmOutbound);
  const app = buildApiApp({ config, prisma: db.prisma, connection: producer, queues: { crmOutbound: outboundQueues, crmChanges: changeQueues }, logger });
  await app.register(receiverPlugin, { queue: changeQueues, config, bodyLimitBytes: config.webhookBodyLimitBytes });
  await app.listen({ port, host: "127.0.0.1" });
  const workers: RunningWorkers = startWorkers({ config, prisma: db.prisma, connection: workerConnection, logger });
  const jwt = signDevToken(config, orgId);

  async function request<T>(base: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
  }
  const api = <T>(method: string, path: string, body?: unknown) => request<T>(apiUrl, method, path, body, { authorization: `Bearer ${jwt}` });
  const admin = <T>(method: string, path: string, body?: unknown) => request<T>(emulator.url, method, path, body);

  const account = await admin<{ accountId: string; connect: Record<string, unknown> }>("POST", "/__sandbox/accounts", {});
  if (account.status !== 201) throw new Error(`${kit.name} emulator refused a new account: ${JSON.stringify(account.json)}`);
  const accountId = account.json.accountId;
  const connected = await api<{ data: { id: string } }>("POST", "/api/v1/crm-integration", account.json.connect);
  if (connected.status !== 201) throw new Error(`connecting ${kit.name} failed: ${connected.status} ${JSON.stringify(connected.json)}`);
  const integrationId = connected.json.data.id;
  const enabled = await api("POST", `/api/v1/crm-integration/${integrationId}/enable-webhooks`, {});
  if (enabled.status !== 200) {
    const errors = lines.filter((l) => l.level >= 50).map((l) => JSON.stringify(l).slice(0, 800));
    throw new Error(`enable-webhooks for ${kit.name} failed: ${enabled.status} ${JSON.stringify(enabled.json)}\n${errors.join("\n")}`);
  }
  await emulator.feedReady?.({ prisma: db.prisma, integrationId, logs: lines });

  const records = `/__sandbox/accounts/${accountId}/records`;
  // The account's own queues (its shard's normal lane).
  const crmChanges = changeQueues.route(`${kit.name}:${accountId}`);
  const crmOutbound = outboundQueues.route(integrationId);
  return {
    kit,
    config,
    prisma: db.prisma,
    emulator,
    accountId,
    integrationId,
    orgId,
    logs: lines,
    queues: { crmChanges, crmOutbound },
    api,
    admin,
    async createRecord(fields) {
      const created = await admin<{ ids: string[] }>("POST", records, { records: [kit.createBody(fields)] });
      if (created.status !== 201) throw new Error(`creating a ${kit.name} record failed: ${JSON.stringify(created.json)}`);
      return String(created.json.ids[0]);
    },
    async updateRecord(id, fields) {
      const updated = await admin("PATCH", `${records}/${id}`, kit.updateBody(fields));
      if (updated.status >= 300) throw new Error(`updating ${kit.name} record ${id} failed: ${JSON.stringify(updated.json)}`);
    },
    async deleteRecord(id) {
      const deleted = await admin("DELETE", `${records}/${id}`);
      if (deleted.status >= 300) throw new Error(`deleting ${kit.name} record ${id} failed: ${JSON.stringify(deleted.json)}`);
    },
    async findRecords(email) {
      const found = await admin<unknown>("GET", `${records}?email=${encodeURIComponent(email)}`);
      return kit.readRecords(found.json);
    },
    async stats() {
      return (await admin<{ calls: { total: number; byEndpoint: Record<string, number> } }>("GET", `/__sandbox/accounts/${accountId}/stats`)).json;
    },
    async close() {
      await app.close();
      await workers.close();
      await cleanupPrefixEverywhere(producer, prefix);
      await closeAll({ queues: [...changeQueues.queues, ...outboundQueues.queues], connections: [producer, workerConnection] }, { timeoutMs: 5_000 });
      await emulator.close();
      await db.drop();
    },
  };
}

/** Polls `check` until it returns something other than undefined/false; fails after `timeoutMs` naming `what`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
