import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { loadConfig } from "@leadsync/config";
import { createPrismaClient } from "@leadsync/db";
import { createQueue, QUEUES, QueueLayout } from "@leadsync/queue";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiApp } from "../src/app.js";
import { BULL_BOARD, startApi, type ApiHarness } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

describe("health and readiness", () => {
  it("GET /health and GET /ready answer 200 when Postgres and Redis are up", async () => {
    expect((await api.app.inject("/health")).json()).toEqual({ success: true, data: { status: "ok" } });
    const ready = await api.app.inject("/ready");
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ success: true, data: { postgres: "up", redis: "up" } });
  });

  it("GET /ready answers 503 naming what is down", async () => {
    // Nothing listens on port 1: a Postgres and a Redis that are unreachable.
    const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent" });
    const prisma = createPrismaClient("postgresql://postgres@127.0.0.1:1/leadsync_down");
    // No reconnect attempts: a retry racing the teardown below would reject inside ioredis after the test ended.
    const connection = new Redis("redis://127.0.0.1:1", { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    connection.on("error", () => undefined);
    const closed = new Promise((resolve) => connection.once("end", resolve));
    const logger = pino({ level: "silent" });
    const crmOutbound = createQueue(QUEUES.crmOutbound, { connection, prefix: "{test-down}", logger });
    const app = buildApiApp({ config, prisma, connection, queues: { crmOutbound }, logger });
    try {
      const res = await app.inject("/ready");
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        success: false,
        error: { code: "not_ready", message: "Not ready: postgres and redis unreachable", details: { postgres: "down", redis: "down" } },
      });
      // Metrics still answer while Redis is down (queue depths are left out, not an error).
      const metrics = await app.inject("/metrics");
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain("process_cpu_user_seconds_total");
      // Postgres up, Redis down: only Redis is named.
      const half = buildApiApp({ config, prisma: api.db.prisma, connection, queues: { crmOutbound }, logger });
      const halfRes = await half.inject("/ready");
      expect(halfRes.json().error.message).toBe("Not ready: redis unreachable");
      await half.close();
    } finally {
      await app.close();
      await crmOutbound.close().catch(() => undefined);
      await closed;
      await prisma.$disconnect();
    }
  });
});

describe("Bull Board at /admin/queues", () => {
  it("answers 401 with a login challenge without credentials or with wrong ones", async () => {
    for (const headers of [{}, { authorization: basic(BULL_BOARD.user, "wrong") }]) {
      const res = await api.app.inject({ url: "/admin/queues", headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toMatch(/^Basic realm="[^"]+"/);
      expect(res.json()).toEqual({ success: false, error: { code: "unauthorized", message: expect.any(String) } });
    }
    // The dashboard's API and static files are behind the same login, with the same answer.
    const api401 = await api.app.inject({ url: "/admin/queues/api/queues" });
    expect(api401.statusCode).toBe(401);
    expect((api401.json() as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("answers 200 with the operator login, and its API lists every queue of the queue contract", async () => {
    const authorization = basic(BULL_BOARD.user, BULL_BOARD.password);
    const page = await api.app.inject({ url: "/admin/queues", headers: { authorization } });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/html/);
    const queues = await api.app.inject({ url: "/admin/queues/api/queues", headers: { authorization } });
    expect(queues.statusCode).toBe(200);
    const names = (queues.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    // Every shard and lane of every queue of the contract (one shard here: each queue and its bulk lane).
    const layout = new QueueLayout({ prefix: api.crmOutbound.opts.prefix ?? "", shards: 1 });
    expect(names).toEqual(Object.values(QUEUES).flatMap((name) => layout.queuesOf(name).map((q) => q.name)).sort());
    expect(names).toContain("crm-changes-bulk");
  });

  it("is not mounted at all without an operator login (production default)", async () => {
    const config = loadConfig({ NODE_ENV: "production", LOG_LEVEL: "silent", JWT_SECRET: "x".repeat(32), HUBSPOT_CLIENT_SECRET: "s", ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64") });
    expect(config.bullBoard).toBeUndefined();
    const app = buildApiApp({ config, prisma: api.db.prisma, connection: api.connection, queues: { crmOutbound: api.crmOutbound }, logger: pino({ level: "silent" }) });
    try {
      const res = await app.inject("/admin/queues");
      expect(res.statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });

  const chromiumNote = existsSync(CHROMIUM) ? "" : ` — SKIPPED: ${CHROMIUM} is not installed (apt-get install -y chromium)`;
  it.skipIf(!existsSync(CHROMIUM))(`shows every queue in a real browser after login${chromiumNote}`, async () => {
    const { chromium } = await import("playwright-core");
    await api.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = api.app.server.address() as AddressInfo;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const context = await browser.newContext({ httpCredentials: { username: BULL_BOARD.user, password: BULL_BOARD.password } });
      const page = await context.newPage();
      const response = await page.goto(`http://127.0.0.1:${port}/admin/queues`);
      expect(response?.status()).toBe(200);
      // The dashboard is a React app: the names appear once it has fetched the queues through its API.
      for (const name of Object.values(QUEUES)) await page.getByText(name, { exact: false }).first().waitFor({ timeout: 20_000 });
      const text = await page.locator("body").innerText();
      for (const name of Object.values(QUEUES)) expect(text).toContain(name);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe("docs and metrics", () => {
  it("serves the OpenAPI document with the platform routes, and the UI at /docs", async () => {
    const ui = await api.app.inject("/docs/");
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toMatch(/swagger/i);
    const spec = (await api.app.inject("/docs/json")).json() as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\./);
    for (const path of ["/api/v1/leads", "/api/v1/leads/{id}", "/api/v1/crm-integration", "/api/v1/crm-integration/{integrationId}/enable-webhooks", "/api/v1/crm-integration/{integrationId}/webhook-status", "/ready"]) {
      expect(Object.keys(spec.paths)).toContain(path);
    }
  });

  it("exports default, HTTP and queue-depth metrics in Prometheus format", async () => {
    await api.call("org-metrics", "POST", "/api/v1/leads", { email: "m@example.com" });
    await api.crmOutbound.add(QUEUES.crmOutbound, { v: 1, integrationId: crypto.randomUUID(), leadId: crypto.randomUUID(), reason: "created", requestedAt: Date.now() }, { delay: 60_000 });
    const res = await api.app.inject("/metrics");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/plain/);
    expect(res.body).toContain("process_cpu_user_seconds_total");
    expect(res.body).toMatch(/leadsync_http_requests_total\{method="POST",route="\/api\/v1\/leads",status_code="201"\} \d+/);
    expect(res.body).toContain(`leadsync_queue_jobs{queue="${QUEUES.crmOutbound}",state="delayed"} 1`);
    expect(res.body).toContain(`leadsync_queue_jobs{queue="${QUEUES.crmChanges}",state="waiting"} 0`);
  });
});

describe("error contract", () => {
  it("unknown routes answer 404 in the error shape; bad JSON 400", async () => {
    const res = await api.app.inject("/api/nope");
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ success: false, error: { code: "not_found" } });
    const bad = await api.app.inject({ method: "POST", url: "/api/v1/leads", headers: { authorization: `Bearer ${api.token("o")}`, "content-type": "application/json" }, payload: "{" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ success: false, error: { code: "bad_request" } });
  });

  it("log lines carry reqId and never the Authorization header", async () => {
    const token = api.token("org-logs");
    await api.app.inject({ url: "/api/v1/leads", headers: { authorization: `Bearer ${token}` } });
    expect(api.logs.text).not.toContain(token);
    const requestLines = api.logs.lines.map((l) => JSON.parse(l) as { reqId?: string; msg?: string }).filter((l) => l.msg === "request completed");
    expect(requestLines.length).toBeGreaterThan(0);
    expect(requestLines.every((l) => typeof l.reqId === "string")).toBe(true);
  });
});
