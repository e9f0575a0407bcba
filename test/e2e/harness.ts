import { randomUUID } from "node:crypto";
import type { createRedisConnection as RedisFactory } from "../../packages/queue/src/index.js";
type Redis = ReturnType<typeof RedisFactory>;
// Root-level tests are not a workspace package: workspace code is imported from its source.
import { loadConfig, type Config } from "../../packages/config/src/index.js";
import { encryptToken } from "../../packages/core/src/index.js";
import type { CrmIntegration, PrismaClient } from "../../packages/db/src/index.js";
import { createTestDatabase, type TestDatabase } from "../../packages/db/src/testing.js";
import { createHubSpotClient, ensureLeadSourceProperty } from "../../packages/hubspot/src/index.js";
import { signV3, startSandbox, type Sandbox, type SandboxTier } from "../../packages/hubspot-sandbox/src/index.js";
import {
  QUEUES,
  createQueue,
  createQueueGroup,
  createRedisConnection,
  enqueue,
  layoutFromConfig,
  singleQueueGroup,
  type QueueGroup,
  type TypedQueue,
} from "../../packages/queue/src/index.js";
import { buildReceiverApp } from "../../apps/receiver/src/index.js";
import { startWorkers, type RunningWorkers } from "../../apps/worker/src/index.js";
import { capturingLogger, type LogLine } from "../../apps/worker/test/helpers/log-capture.js";
import { freePort } from "../helpers/ports.js";
import { cleanupPrefixEverywhere, uniqueQueuePrefix } from "../helpers/redis.js";

/**
 * The whole pipeline on 127.0.0.1 for one test file: HubSpot sandbox → signed webhooks → receiver → BullMQ
 * (a unique prefix) → workers → a fresh Postgres database, plus an integration row for a sandbox portal.
 */

const WEBHOOK_PATH = "/api/v1/webhooks/hubspot";
const CLIENT_SECRET = `e2e-secret-${randomUUID()}`;

export interface HarnessOptions {
  /** Default true. Off: jobs are enqueued directly (worker-level tests). */
  receiver?: boolean;
  /** Default 50 ms. */
  batchWindowMs?: number;
  /** Default 64. */
  concurrency?: number;
  tier?: SandboxTier;
  /** Integration columns to override (direction, auto-sync, status…). */
  integration?: Partial<Pick<CrmIntegration, "syncDirection" | "autoSyncEnabled" | "status" | "authType" | "refreshTokenEnc" | "accessTokenExpiresAt">> & {
    /** The integration's settings JSON (conflictRule, fieldMapping, onContactDeleted, rateLimit…). */
    settings?: Record<string, unknown>;
  };
  orgId?: string;
  /**
   * Queues as production lays them out (QueueLayout: shards, lanes), on one Redis or a cluster; the receiver routes
   * into them and the workers consume them all. Default: one queue each (the receiver's lane and shard 0).
   */
  queues?: { shards?: number; clusterNodes?: string; waitReplicas?: number };
}

export interface Harness {
  config: Config;
  prisma: PrismaClient;
  /** The harness's producer connection to Redis (its queues use it). */
  connection: Redis;
  sandbox: Sandbox;
  portalId: number;
  integration: CrmIntegration;
  orgId: string;
  /** The receiver's webhook URL, or undefined without a receiver. */
  webhookUrl: string | undefined;
  /** The main integration's crm-changes queue (its shard's normal lane). */
  events: TypedQueue<typeof QUEUES.crmChanges>;
  /** The main integration's crm-outbound queue (its shard's normal lane). */
  outbound: TypedQueue<typeof QUEUES.crmOutbound>;
  /** Every queue of crm-changes and crm-outbound (one each without `queues`). */
  eventQueues: QueueGroup<typeof QUEUES.crmChanges>;
  outboundQueues: QueueGroup<typeof QUEUES.crmOutbound>;
  logs: LogLine[];
  /** Contacts created as a person would in HubSpot's UI (webhooks fire); returns their ids. */
  createContacts(contacts: Record<string, string>[], portalId?: number): Promise<string[]>;
  updateContact(contactId: string, properties: Record<string, string>, portalId?: number): Promise<void>;
  getContact(contactId: string): Promise<{ id: string; properties: Record<string, string | null> }>;
  stats(portalId?: number): Promise<SandboxStats>;
  /** Posts events to the receiver, signed (v3) like HubSpot; returns the HTTP status. */
  postWebhook(events: readonly Record<string, unknown>[]): Promise<number>;
  enqueueOutbound(leadId: string, options?: { reason?: "created" | "updated"; integrationId?: string }): Promise<void>;
  /** A lead as the platform creates it (source = the marker), in a "Website" form of `orgId`. */
  createPlatformLead(fields: { email: string; firstName?: string; phone?: string; jobTitle?: string }, orgId?: string): Promise<{ id: string }>;
  /** Injects a sandbox fault for this portal (CONTRACT.md: `/__sandbox/faults`). */
  fault(fault: { kind: "latency" | "error" | "rate_limit" | "drop_webhooks" | "fail_webhooks"; count?: number; status?: number; retryAfterSeconds?: number; ms?: number }): Promise<void>;
  /** Waits until the sandbox has no webhook pending and both queues have nothing waiting or running. */
  settled(): Promise<void>;
  /** Another integration of the same kind (e.g. a second portal with different settings). */
  addIntegration(overrides?: HarnessOptions["integration"], orgId?: string): Promise<{ portalId: number; integration: CrmIntegration }>;
  close(): Promise<void>;
}

export interface SandboxStats {
  calls: { total: number; byEndpoint: Record<string, number> };
  throttled: number;
  webhooks: { delivered: number; failed: number; pending: number };
}

export const BATCH_READ = "POST /crm/v3/objects/contacts/batch/read";

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, { timeoutMs = 10_000, what = "condition" } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}


export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const withReceiver = options.receiver ?? true;
  const orgId = options.orgId ?? `org-${randomUUID().slice(0, 8)}`;
  const prefix = uniqueQueuePrefix();
  const db: TestDatabase = await createTestDatabase();
  const receiverPort = withReceiver ? await freePort() : 0;
  const apiUrl = `http://127.0.0.1:${receiverPort || 1}`;
  const sandbox = await startSandbox({
    clientSecret: CLIENT_SECRET,
    port: 0,
    webhookFlushMs: 20,
    webhookRetryDelaysMs: [200, 500, 1000],
    ...(withReceiver ? { webhookTargetUrl: `${apiUrl}${WEBHOOK_PATH}` } : {}),
  });
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    DATABASE_URL: db.url,
    REDIS_URL: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
    QUEUE_PREFIX: prefix,
    API_URL: apiUrl,
    HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
    HUBSPOT_CLIENT_ID: sandbox.app.clientId,
    HUBSPOT_APP_ID: String(sandbox.app.appId),
    HUBSPOT_API_BASE: sandbox.url,
    INBOUND_BATCH_WINDOW_MS: String(options.batchWindowMs ?? 50),
    WORKER_CONCURRENCY: String(options.concurrency ?? 64),
    ...(options.queues?.shards === undefined ? {} : { QUEUE_SHARDS: String(options.queues.shards) }),
    ...(options.queues?.clusterNodes === undefined ? {} : { REDIS_CLUSTER_NODES: options.queues.clusterNodes }),
    ...(options.queues?.waitReplicas === undefined ? {} : { REDIS_WAIT_REPLICAS: String(options.queues.waitReplicas) }),
  });
  const { logger, lines } = capturingLogger();
  const producer = createRedisConnection(config.redis, { role: "producer" });
  const workerConnection = createRedisConnection(config.redis, { role: "worker" });
  const laidOut = options.queues !== undefined;
  const eventQueues = laidOut
    ? createQueueGroup(QUEUES.crmChanges, { connection: producer, layout: layoutFromConfig(config), logger })
    : singleQueueGroup(createQueue(QUEUES.crmChanges, { connection: producer, prefix, logger }));
  const outboundQueues = laidOut
    ? createQueueGroup(QUEUES.crmOutbound, { connection: producer, layout: layoutFromConfig(config), logger })
    : singleQueueGroup(createQueue(QUEUES.crmOutbound, { connection: producer, prefix, logger }));

  const receiver = withReceiver ? buildReceiverApp({ config, queue: eventQueues, connection: producer, logger }) : undefined;
  if (receiver) await receiver.listen({ port: receiverPort, host: "127.0.0.1" });
  const workers: RunningWorkers = startWorkers({ config, prisma: db.prisma, connection: workerConnection, logger });

  async function addIntegration({ settings, ...overrides }: NonNullable<HarnessOptions["integration"]> = {}, forOrg = orgId) {
    const portal = sandbox.createPortal({ tier: options.tier ?? "professional" });
    await ensureLeadSourceProperty(createHubSpotClient({ accessToken: portal.accessToken, basePath: sandbox.url }), config.leadSourceMarker);
    const integration = await db.prisma.crmIntegration.create({
      data: {
        orgId: forOrg,
        provider: "hubspot",
        externalAccountId: String(portal.portalId),
        tier: portal.tier,
        accessTokenEnc: encryptToken(portal.accessToken, config.encryptionKey),
        webhooksEnabled: true,
        ...overrides,
        ...(settings && { settings: settings as object }),
      },
    });
    return { portalId: portal.portalId, integration };
  }
  const main = await addIntegration(options.integration);
  const events = eventQueues.route(`hubspot:${main.portalId}`);
  const outbound = outboundQueues.route(main.integration.id);

  async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`sandbox ${method} ${path} → ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  }

  return {
    connection: producer,
    config,
    prisma: db.prisma,
    sandbox,
    portalId: main.portalId,
    integration: main.integration,
    orgId,
    webhookUrl: withReceiver ? `${apiUrl}${WEBHOOK_PATH}` : undefined,
    events,
    outbound,
    eventQueues,
    outboundQueues,
    logs: lines,
    async createContacts(contacts, portalId = main.portalId) {
      const { ids } = await admin<{ ids: string[] }>("POST", `/__sandbox/portals/${portalId}/contacts`, {
        contacts: contacts.map((properties) => ({ properties })),
      });
      return ids;
    },
    async updateContact(contactId, properties, portalId = main.portalId) {
      await admin("PATCH", `/__sandbox/portals/${portalId}/contacts/${contactId}`, { properties });
    },
    getContact: (contactId) => admin("GET", `/__sandbox/portals/${main.portalId}/contacts/${contactId}`),
    stats: (portalId = main.portalId) => admin<SandboxStats>("GET", `/__sandbox/portals/${portalId}/stats`),
    async postWebhook(batch) {
      if (!withReceiver) throw new Error("harness started without a receiver");
      const body = JSON.stringify(batch);
      const timestamp = Date.now();
      const uri = `${apiUrl}${WEBHOOK_PATH}`;
      const response = await fetch(uri, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hubspot-signature-v3": signV3(CLIENT_SECRET, "POST", uri, body, timestamp),
          "x-hubspot-request-timestamp": String(timestamp),
        },
        body,
      });
      return response.status;
    },
    async enqueueOutbound(leadId, { reason = "created", integrationId = main.integration.id } = {}) {
      await enqueue(outboundQueues.route(integrationId), { v: 1, integrationId, leadId, reason, requestedAt: Date.now() });
    },
    async createPlatformLead(fields, forOrg = orgId) {
      const form = await db.prisma.form.upsert({
        where: { orgId_name: { orgId: forOrg, name: "Website" } },
        create: { orgId: forOrg, name: "Website" },
        update: {},
      });
      return db.prisma.lead.create({ data: { ...fields, orgId: forOrg, formId: form.id, source: config.leadSourceMarker }, select: { id: true } });
    },
    addIntegration,
    async fault(fault) {
      await admin("POST", "/__sandbox/faults", { portalId: main.portalId, ...fault });
    },
    async settled() {
      await sandbox.webhooksIdle();
      await eventually(
        async () => {
          for (const queue of [...eventQueues.queues, ...outboundQueues.queues]) {
            const counts = await queue.getJobCounts("active", "waiting", "delayed", "prioritized");
            if (Object.values(counts).some((n) => n > 0)) return false;
          }
          return true;
        },
        { what: "idle queues" },
      );
    },
    async close() {
      await sandbox.close().catch(() => undefined);
      await receiver?.close();
      await workers.close();
      await Promise.all([...eventQueues.queues, ...outboundQueues.queues].map((queue) => queue.close()));
      await cleanupPrefixEverywhere(producer, prefix);
      producer.disconnect();
      workerConnection.disconnect();
      await db.drop();
    },
  };
}

/** A HubSpot-shaped event for tests that post or enqueue webhooks themselves. */
export interface TestEventFields {
  objectId: string | number;
  portalId: string | number;
  subscriptionType: string;
  eventId?: number;
  occurredAt?: number;
  attemptNumber?: number;
  propertyName?: string;
  propertyValue?: string;
}

export function hubspotEvent(fields: TestEventFields) {
  return {
    eventId: Math.floor(Math.random() * 1e9),
    subscriptionId: 1,
    appId: 1000001,
    occurredAt: Date.now(),
    attemptNumber: 0,
    changeSource: "CRM_UI",
    ...fields,
  };
}
