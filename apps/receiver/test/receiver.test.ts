import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { DEV_CLIENT_SECRET, loadConfig, type Config } from "@leadsync/config";
import { hubspotEventBatchSchema } from "@leadsync/core";
import { signHubSpotWebhook, type HubSpotSignatureVersion } from "@leadsync/hubspot";
import { closeAll, createQueue, createRedisConnection, QUEUES, type TypedQueue } from "@leadsync/queue";
import type { FastifyInstance } from "fastify";
import type { RedisClient } from "@leadsync/queue";
import { pino } from "pino";
import { register } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { hubspotBatchJobId } from "@leadsync/hubspot";
import { buildReceiverApp, HUBSPOT_WEBHOOK_PATH } from "../src/index.js";
import { changesJob, changesJobJson } from "../src/webhook-job.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SECRET = `test-client-secret-${randomUUID()}`;
/** The public URL HubSpot calls; requests reach the app under another Host (a proxy in between). */
const API_URL = "https://hooks.example.com";
const PUBLIC_URI = API_URL + HUBSPOT_WEBHOOK_PATH;
/** Unique per run: never touches `pnpm start`'s `{leadsync}` keys. */
const PREFIX = `{leadsync-test-receiver-${randomUUID()}}`;

function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: "test", API_URL, HUBSPOT_CLIENT_SECRET: SECRET, QUEUE_PREFIX: PREFIX, ...overrides });
}

let nextEventId = 1000;
function contactEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: nextEventId++,
    subscriptionId: 25,
    portalId: 62515,
    appId: 1160452,
    occurredAt: 1_764_288_000_000,
    subscriptionType: "contact.propertyChange",
    attemptNumber: 0,
    objectId: 1246965,
    propertyName: "firstname",
    propertyValue: "Ada",
    changeSource: "CRM_UI",
    ...overrides,
  };
}

interface PostOptions {
  version?: HubSpotSignatureVersion;
  signedUri?: string;
  url?: string;
  timestamp?: number;
  /** Sent instead of the signed body (tampering). */
  sentBody?: string;
  headers?: Record<string, string>;
}

function signedPost(app: FastifyInstance, body: unknown, options: PostOptions = {}) {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  const signature = signHubSpotWebhook(options.version ?? "v3", {
    method: "POST",
    requestUri: options.signedUri ?? PUBLIC_URI,
    body: payload,
    clientSecret: SECRET,
    timestamp: options.timestamp ?? Date.now(),
  });
  return app.inject({
    method: "POST",
    url: options.url ?? HUBSPOT_WEBHOOK_PATH,
    headers: { host: "receiver.internal:3000", "content-type": "application/json", ...signature, ...options.headers },
    payload: options.sentBody ?? payload,
  });
}

/** Captures log lines so tests can check what is (and is not) logged. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString());
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines, raw };
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await register.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return match?.value ?? 0;
}

describe("receiver against real Redis", () => {
  let connection: RedisClient;
  let queue: TypedQueue<typeof QUEUES.crmChanges>;
  let app: FastifyInstance;
  const logs = captureLogs();

  async function queuedJobs() {
    return queue.getJobs(["waiting", "active", "delayed", "completed", "failed"]);
  }

  beforeAll(async () => {
    connection = createRedisConnection(REDIS_URL, { role: "producer" });
    queue = createQueue(QUEUES.crmChanges, { connection, prefix: PREFIX, logger: pino({ level: "silent" }) });
    await queue.waitUntilReady();
    app = buildReceiverApp({ config: testConfig(), queue, connection, logger: logs.logger });
    await app.ready();
  });

  beforeEach(async () => {
    await queue.obliterate({ force: true });
    logs.lines.length = 0;
    logs.raw.length = 0;
  });

  afterAll(async () => {
    await app.close();
    await queue.obliterate({ force: true });
    await closeAll({ queues: [queue], connections: [connection] }, { timeoutMs: 5_000 });
  });

  it("GET answers 200 (HubSpot's reachability check)", async () => {
    const response = await app.inject({ method: "GET", url: HUBSPOT_WEBHOOK_PATH });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true });
  });

  it("queues a valid v3 batch as exactly one job carrying the events", async () => {
    const events = [contactEvent(), contactEvent({ subscriptionType: "contact.creation", objectId: 77 })];
    const response = await signedPost(app, events);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ success: true });

    const jobs = await queuedJobs();
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.id).toMatch(/^hs-[0-9a-f]{64}$/);
    expect(job.data).toMatchObject({ v: 1, provider: "hubspot", events });
    expect(job.data.receivedAt).toEqual(expect.any(Number));
  });

  it("queues the body's events as sent: non-ASCII text, spacing and unknown fields", async () => {
    const events = [contactEvent({ propertyValue: "Zoë 😀 \u2028 ümlaut", somethingNew: { nested: [1, "ü"] } })];
    const response = await signedPost(app, ` [ ${JSON.stringify(events[0], null, 2)} ]\n`);
    expect(response.statusCode).toBe(200);
    const jobs = await queuedJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data.events).toStrictEqual(events);
  });

  it("a redelivered batch (attemptNumber bumped, re-signed) is still one job", async () => {
    const events = [contactEvent(), contactEvent()];
    expect((await signedPost(app, events)).statusCode).toBe(200);
    const redelivery = events.map((e) => ({ ...e, attemptNumber: 1 }));
    expect((await signedPost(app, redelivery, { timestamp: Date.now() + 1 })).statusCode).toBe(200);

    const jobs = await queuedJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data.events).toEqual(events);

    // A batch with other events is a job of its own.
    expect((await signedPost(app, [contactEvent()])).statusCode).toBe(200);
    expect(await queuedJobs()).toHaveLength(2);
  });

  it("accepts a v1-signed batch (legacy apps sign CRM webhooks v1 only)", async () => {
    const response = await signedPost(app, [contactEvent()], { version: "v1" });
    expect(response.statusCode).toBe(200);
    expect(await queuedJobs()).toHaveLength(1);
  });

  it("logs one structured line per batch, without the signature or the secret", async () => {
    const before = await metricValue("leadsync_webhook_events_received_total", { type: "contact.deletion" });
    const signature = signHubSpotWebhook("v3", { method: "POST", requestUri: PUBLIC_URI, body: "x", clientSecret: SECRET });
    const response = await signedPost(app, [contactEvent({ subscriptionType: "contact.deletion", portalId: 999 })]);
    expect(response.statusCode).toBe(200);

    const received = logs.lines.filter((l) => l.msg === "webhook received");
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ count: 1, portalIds: ["999"], types: ["contact.deletion"], signatureVersion: "v3" });
    // That line is the request's only one: Fastify's per-request lines are off for webhook posts, not for other routes.
    expect(logs.lines.filter((l) => l.msg === "incoming request" || l.msg === "request completed")).toHaveLength(0);
    expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    expect(logs.lines.filter((l) => l.msg === "request completed")).toHaveLength(1);
    const all = logs.raw.join("");
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(signature["x-hubspot-signature-v3"]!.slice(0, 20));
    expect(await metricValue("leadsync_webhook_events_received_total", { type: "contact.deletion" })).toBe(before + 1);
  });

  describe("401 for a missing, wrong or stale signature, and nothing queued", () => {
    it.each([
      ["tampered body", { sentBody: JSON.stringify([contactEvent({ propertyValue: "Mallory" })]) }, "bad_signature"],
      ["stale timestamp (6 min old)", { timestamp: Date.now() - 6 * 60_000 }, "stale_timestamp"],
      ["future timestamp", { timestamp: Date.now() + 10 * 60_000 }, "future_timestamp"],
      ["signed for the internal URI, not the public one", { signedUri: `http://receiver.internal:3000${HUBSPOT_WEBHOOK_PATH}` }, "bad_signature"],
    ] as const)("%s", async (_name, options, reason) => {
      const before = await metricValue("leadsync_webhooks_rejected_total", { reason });
      const response = await signedPost(app, [contactEvent()], options);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ success: false, error: { code: "invalid_signature", message: expect.any(String) } });
      expect(await queuedJobs()).toHaveLength(0);
      expect(await metricValue("leadsync_webhooks_rejected_total", { reason })).toBe(before + 1);
      expect(logs.lines.some((l) => l.msg === "webhook rejected" && l.reason === reason)).toBe(true);
    });

    it("no signature headers at all", async () => {
      const response = await app.inject({
        method: "POST",
        url: HUBSPOT_WEBHOOK_PATH,
        headers: { "content-type": "application/json" },
        payload: JSON.stringify([contactEvent()]),
      });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe("invalid_signature");
      expect(await queuedJobs()).toHaveLength(0);
    });
  });

  describe("400 for a body that is not a HubSpot event batch, and nothing queued", () => {
    it.each([
      ["not JSON", "[{not json"],
      ["not an array", JSON.stringify({ events: [contactEvent()] })],
      ["an empty array", "[]"],
      ["wrong field types", JSON.stringify([contactEvent({ portalId: "sixty-two", occurredAt: "yesterday" })])],
      ["101 events", JSON.stringify(Array.from({ length: 101 }, () => contactEvent()))],
    ])("%s", async (_name, body) => {
      const response = await signedPost(app, body);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ success: false, error: { code: "invalid_body", message: expect.any(String) } });
      expect(await queuedJobs()).toHaveLength(0);
    });

    it("names the offending fields", async () => {
      const response = await signedPost(app, [contactEvent({ portalId: "sixty-two" })]);
      expect(response.json().error.message).toMatch(/0\.portalId/);
    });
  });

  it("413 for a 5 MB body", async () => {
    const huge = JSON.stringify([contactEvent({ propertyValue: "x".repeat(5 * 1024 * 1024) })]);
    const response = await signedPost(app, huge);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ success: false, error: { code: "payload_too_large", message: expect.any(String) } });
    expect(await queuedJobs()).toHaveLength(0);
  });

  it("415 for a wrong content type", async () => {
    const response = await signedPost(app, [contactEvent()], { headers: { "content-type": "text/plain" } });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual({ success: false, error: { code: "unsupported_media_type", message: expect.any(String) } });
    expect(await queuedJobs()).toHaveLength(0);
  });

  it("accepts a JSON content type with a charset", async () => {
    const response = await signedPost(app, [contactEvent()], { headers: { "content-type": "application/json; charset=utf-8" } });
    expect(response.statusCode).toBe(200);
  });

  it("verifies a URI with a query string, percent-encodings decoded as HubSpot does", async () => {
    const query = "?redirect=https%3A%2F%2Fapp.test%2Fx&name=a%20b";
    const response = await signedPost(app, [contactEvent()], { url: HUBSPOT_WEBHOOK_PATH + query, signedUri: PUBLIC_URI + query });
    expect(response.statusCode).toBe(200);
  });

  it("/health and /ready answer 200 with Redis up", async () => {
    expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    const ready = await app.inject({ method: "GET", url: "/ready" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ success: true, data: { redis: "up" } });
  });

  it("works over a real listening socket", async () => {
    const config = testConfig();
    const listening = buildReceiverApp({ config, queue, connection, logger: pino({ level: "silent" }) });
    try {
      const address = await listening.listen({ port: 0, host: "127.0.0.1" });
      const body = JSON.stringify([contactEvent()]);
      const headers = signHubSpotWebhook("v3", { method: "POST", requestUri: PUBLIC_URI, body, clientSecret: SECRET });
      const response = await fetch(address + HUBSPOT_WEBHOOK_PATH, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ success: true });
      expect(await queuedJobs()).toHaveLength(1);
    } finally {
      await listening.close();
    }
  });
});

describe("receiver while RedisClient is unreachable", () => {
  let connection: RedisClient;
  let queue: TypedQueue<typeof QUEUES.crmChanges>;
  let app: FastifyInstance;

  beforeAll(async () => {
    // Port 1: nothing listens, every connection attempt is refused.
    connection = createRedisConnection("redis://127.0.0.1:1", { role: "producer" });
    connection.on("error", () => {});
    queue = createQueue(QUEUES.crmChanges, { connection, prefix: PREFIX, logger: pino({ level: "silent" }) });
    app = buildReceiverApp({ config: testConfig(), queue, connection, logger: pino({ level: "silent" }) });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await closeAll({ queues: [queue], connections: [connection] }, { timeoutMs: 2_000 });
  });

  it("answers 503 (so HubSpot retries) instead of hanging", async () => {
    const response = await signedPost(app, [contactEvent()]);
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ success: false, error: { code: "queue_unavailable", message: expect.any(String) } });
  }, 10_000);

  it("/ready answers 503 naming Redis", async () => {
    const response = await app.inject({ method: "GET", url: "/ready" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ success: false, error: { code: "not_ready", message: expect.stringMatching(/Redis/) } });
  });
});

describe("hubspotBatchJobId", () => {
  it("ignores event order and attemptNumber, and differs for other events", () => {
    const a = hubspotEventBatchSchema.parse([contactEvent(), contactEvent()]);
    const reordered = [a[1]!, a[0]!];
    const retried = a.map((e) => ({ ...e, attemptNumber: 3 }));
    expect(hubspotBatchJobId(reordered)).toBe(hubspotBatchJobId(a));
    expect(hubspotBatchJobId(retried)).toBe(hubspotBatchJobId(a));
    expect(hubspotBatchJobId(a.slice(0, 1))).not.toBe(hubspotBatchJobId(a));
    expect(hubspotBatchJobId(a)).not.toContain(":");
  });
});

describe("changesJobJson", () => {
  it("is the JSON of changesJob for the body's events, whatever the body's spacing", () => {
    for (const text of [JSON.stringify([contactEvent(), contactEvent()]), ` [\n ${JSON.stringify(contactEvent({ propertyValue: "Zoë \u2028" }), null, 2)} ] `]) {
      const parsed = JSON.parse(text) as Record<string, unknown>[];
      const verdict = { events: parsed, accounts: ["62515"], eventsJson: Buffer.from(text) };
      const json = changesJobJson("hubspot", verdict, 1_764_288_000_123);
      expect(JSON.parse(json.toString("utf8"))).toStrictEqual(changesJob("hubspot", verdict, 1_764_288_000_123));
    }
  });
});

describe("production refuses the development client secret", () => {
  it("buildReceiverApp throws", () => {
    const config = testConfig({
      NODE_ENV: "production",
      HUBSPOT_CLIENT_SECRET: DEV_CLIENT_SECRET,
      JWT_SECRET: "a-production-jwt-secret",
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    });
    const fakeQueue = {} as TypedQueue<typeof QUEUES.crmChanges>;
    const fakeConnection = {} as RedisClient;
    expect(() => buildReceiverApp({ config, queue: fakeQueue, connection: fakeConnection, logger: pino({ level: "silent" }) })).toThrow(
      /development default/,
    );
  });
});
