import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// The bench is root-level code like test/**: workspace code is imported from its source.
import { loadConfig, type Config } from "../../packages/config/src/index.js";
import { encryptToken } from "../../packages/core/src/index.js";
import type { CrmIntegration } from "../../packages/db/src/index.js";
import { createTestDatabase, type TestDatabase } from "../../packages/db/src/testing.js";
import { createHubSpotClient, ensureLeadSourceProperty } from "../../packages/hubspot/src/index.js";
import { signV3, startSandbox, type Sandbox, type SandboxTier } from "../../packages/hubspot-sandbox/src/index.js";
import { QUEUES, createQueue, createRedisConnection, type TypedQueue } from "../../packages/queue/src/index.js";
import { freePort } from "../../test/helpers/ports.js";
import { cleanupPrefix, uniqueQueuePrefix } from "../../test/helpers/redis.js";
import { onCleanup } from "./cleanup.js";
import { nodeFlagsOf, startApp, waitForHttp, type BenchProcess } from "./processes.js";

export { freePort };

export const WEBHOOK_PATH = "/api/v1/webhooks/hubspot";

export interface EnvironmentOptions {
  tier: SandboxTier;
  /** The sandbox delivers its webhooks to the receiver (else no webhooks are generated). */
  sandboxWebhooks?: boolean;
  webhookFlushMs?: number;
  orgId?: string;
}

/** A connected portal of `addPortals`: its sandbox portal and the organisation its integration belongs to. */
export interface TenantPortal {
  portalId: number;
  accessToken: string;
  orgId: string;
}

/** The sandbox's per-portal counters (`GET /__sandbox/portals/:id/stats`). */
export interface SandboxStats {
  calls: { total: number; byEndpoint: Record<string, number> };
  throttled: number;
  webhooks: { delivered: number; failed: number; pending: number; dropped?: number };
  maxCallsInAnyWindow: number;
  dailyUsed: number;
}

/**
 * One scenario's world: a fresh database (cloned from the migrated template, dropped afterwards), a unique
 * BullMQ prefix (deleted afterwards), an in-process sandbox with one portal and its integration row, and the
 * apps as separate processes on demand. Everything is undone through the cleanup stack.
 */
export class BenchEnvironment {
  readonly logDir: string;
  readonly orgId: string;
  config!: Config;
  db!: TestDatabase;
  sandbox!: Sandbox;
  portal!: { portalId: number; accessToken: string };
  integration!: CrmIntegration;
  events!: TypedQueue<typeof QUEUES.crmChanges>;
  outbound!: TypedQueue<typeof QUEUES.crmOutbound>;
  receiverUrl: string | undefined;
  private readonly secret = `bench-secret-${randomUUID()}`;
  private env: Record<string, string> = {};
  private clearPrefix: () => Promise<number> = async () => 0;

  private constructor(private readonly options: EnvironmentOptions) {
    this.orgId = options.orgId ?? `bench-${randomUUID().slice(0, 8)}`;
    this.logDir = mkdtempSync(join(tmpdir(), "leadsync-bench-"));
  }

  static async start(options: EnvironmentOptions): Promise<BenchEnvironment> {
    const env = new BenchEnvironment(options);
    await env.setUp();
    return env;
  }

  private async setUp(): Promise<void> {
    // BENCH_KEEP_LOGS=1 keeps the apps' logs for a look afterwards.
    if (!process.env["BENCH_KEEP_LOGS"]) onCleanup("log dir", () => rmSync(this.logDir, { recursive: true, force: true }));
    const prefix = uniqueQueuePrefix();
    this.db = await createTestDatabase();
    onCleanup("database", () => this.db.drop());
    const receiverPort = await freePort();
    this.receiverUrl = `http://127.0.0.1:${receiverPort}`;
    this.sandbox = await startSandbox({
      clientSecret: this.secret,
      port: 0,
      webhookFlushMs: this.options.webhookFlushMs ?? 50,
      ...(this.options.sandboxWebhooks ? { webhookTargetUrl: `${this.receiverUrl}${WEBHOOK_PATH}` } : {}),
    });
    onCleanup("sandbox", () => this.sandbox.close());
    this.env = {
      NODE_ENV: "test",
      LOG_LEVEL: "info",
      DATABASE_URL: this.db.url,
      REDIS_URL: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
      QUEUE_PREFIX: prefix,
      API_URL: this.receiverUrl,
      HUBSPOT_CLIENT_SECRET: this.secret,
      HUBSPOT_CLIENT_ID: this.sandbox.app.clientId,
      HUBSPOT_API_BASE: this.sandbox.url,
      HOST: "127.0.0.1",
    };
    this.config = loadConfig(this.env);
    const producer = createRedisConnection(this.config.redisUrl, { role: "producer" });
    this.events = createQueue(QUEUES.crmChanges, { connection: producer, prefix });
    this.outbound = createQueue(QUEUES.crmOutbound, { connection: producer, prefix });
    this.clearPrefix = () => cleanupPrefix(producer, prefix);
    onCleanup("queues", async () => {
      await this.events.close();
      await this.outbound.close();
      await cleanupPrefix(producer, prefix);
      producer.disconnect();
    });

    const portal = this.sandbox.createPortal({ tier: this.options.tier });
    this.portal = portal;
    await ensureLeadSourceProperty(createHubSpotClient({ accessToken: portal.accessToken, basePath: this.sandbox.url }), this.config.leadSourceMarker);
    this.integration = await this.db.prisma.crmIntegration.create({
      data: {
        orgId: this.orgId,
        provider: "hubspot",
        externalAccountId: String(portal.portalId),
        tier: portal.tier,
        accessTokenEnc: encryptToken(portal.accessToken, this.config.encryptionKey),
        webhooksEnabled: true,
      },
    });
  }

  /**
   * `count` more connected portals of `tier`: sandbox portals with the lead-source property (what connecting does),
   * and their integration rows in one insert, each in an organisation of its own (a tenant).
   */
  async addPortals(count: number, tier: SandboxTier, { propertyConcurrency = 20 } = {}): Promise<TenantPortal[]> {
    const portals = Array.from({ length: count }, () => this.sandbox.createPortal({ tier }));
    let next = 0;
    await Promise.all(
      Array.from({ length: propertyConcurrency }, async () => {
        for (let portal = portals[next++]; portal; portal = portals[next++]) {
          await ensureLeadSourceProperty(createHubSpotClient({ accessToken: portal.accessToken, basePath: this.sandbox.url }), this.config.leadSourceMarker);
        }
      }),
    );
    const tenants = portals.map((portal, i) => ({ portalId: portal.portalId, accessToken: portal.accessToken, orgId: `${this.orgId}-t${i}` }));
    await this.db.prisma.crmIntegration.createMany({
      data: tenants.map((t, i) => ({
        orgId: t.orgId,
        provider: "hubspot" as const,
        externalAccountId: String(t.portalId),
        tier: portals[i]?.tier ?? tier,
        accessTokenEnc: encryptToken(t.accessToken, this.config.encryptionKey),
        webhooksEnabled: true,
      })),
    });
    return tenants;
  }

  /** A worker process (apps/worker/src/main.ts), ready when its /health answers. */
  async startWorker(name = "worker", extraEnv: Record<string, string> = {}): Promise<BenchProcess & { metricsUrl: string }> {
    const port = await freePort();
    const env = { ...this.env, WORKER_METRICS_PORT: String(port), ...extraEnv };
    const proc = startApp(name, "apps/worker/src/main.ts", env, this.logDir, nodeFlagsOf("start:worker"));
    await waitForHttp(`http://127.0.0.1:${port}/health`, proc);
    return Object.assign(proc, { metricsUrl: `http://127.0.0.1:${port}/metrics` });
  }

  /** The receiver process (apps/receiver/src/server.ts) on `receiverUrl`. */
  async startReceiver(): Promise<BenchProcess> {
    const port = new URL(this.receiverUrl as string).port;
    const proc = startApp("receiver", "apps/receiver/src/server.ts", { ...this.env, PORT: port }, this.logDir);
    await waitForHttp(`${this.receiverUrl}/health`, proc);
    return proc;
  }

  /** The platform API process (apps/api/src/server.ts); returns its base URL. */
  async startApi(): Promise<{ proc: BenchProcess; url: string }> {
    const port = await freePort();
    const proc = startApp("api", "apps/api/src/server.ts", { ...this.env, PORT: String(port) }, this.logDir);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/health`, proc);
    return { proc, url };
  }

  async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.sandbox.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`sandbox ${method} ${path} → ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** Creates contacts as a person would in HubSpot's UI, 500 per request; returns their ids in order. */
  async createContacts(contacts: Record<string, string>[], portalId = this.portal.portalId): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < contacts.length; i += 500) {
      const chunk = contacts.slice(i, i + 500).map((properties) => ({ properties }));
      const result = await this.admin<{ ids: string[] }>("POST", `/__sandbox/portals/${portalId}/contacts`, { contacts: chunk });
      ids.push(...result.ids);
    }
    return ids;
  }

  stats(portalId = this.portal.portalId): Promise<SandboxStats> {
    return this.admin<SandboxStats>("GET", `/__sandbox/portals/${portalId}/stats`);
  }

  /** Headers HubSpot would send with `body` posted to the receiver (v3 signature). */
  signedHeaders(body: string, timestamp = Date.now()): Record<string, string> {
    const uri = `${this.receiverUrl}${WEBHOOK_PATH}`;
    return {
      "content-type": "application/json",
      "x-hubspot-signature-v3": signV3(this.secret, "POST", uri, body, timestamp),
      "x-hubspot-request-timestamp": String(timestamp),
    };
  }

  async postWebhook(events: readonly Record<string, unknown>[]): Promise<number> {
    const body = JSON.stringify(events);
    const response = await fetch(`${this.receiverUrl}${WEBHOOK_PATH}`, { method: "POST", headers: this.signedHeaders(body), body });
    await response.arrayBuffer();
    return response.status;
  }

  /** Deletes every job of this run's queues (the receiver benchmark queues thousands of 100-event jobs). */
  async clearQueues(): Promise<void> {
    await this.clearPrefix();
  }

  /** The environment of the apps' processes (config of this run). */
  appEnv(): Record<string, string> {
    return { ...this.env };
  }

  /** True when neither queue has a job waiting, delayed or running. */
  async queuesIdle(): Promise<boolean> {
    for (const queue of [this.events, this.outbound]) {
      const counts = await queue.getJobCounts("active", "waiting", "delayed", "prioritized");
      if (Object.values(counts).some((n) => n > 0)) return false;
    }
    return true;
  }
}

/** A HubSpot-shaped webhook event. */
export function hubspotEvent(fields: { portalId: number; objectId: string; subscriptionType: string; eventId: number; occurredAt: number; propertyName?: string; propertyValue?: string }) {
  return { subscriptionId: 1, appId: 1000001, attemptNumber: 0, changeSource: "CRM_UI", ...fields };
}


/** Polls `check` every `intervalMs` until it is true; calls `tick` each round (progress). */
export async function waitUntil(check: () => Promise<boolean>, { timeoutMs, intervalMs = 250, tick, what }: { timeoutMs: number; intervalMs?: number; tick?: () => Promise<void> | void; what: string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    await tick?.();
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Samples of a worker's own Prometheus metrics (by name, without labels), e.g. its V8 heap. */
export async function scrapeGauges(metricsUrl: string, names: readonly string[]): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const values: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const [key, value] = line.split(" ");
    if (key && value && names.includes(key)) values[key] = Number(value);
  }
  return values;
}
