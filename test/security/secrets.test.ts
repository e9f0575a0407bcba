import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signDevToken } from "../../apps/api/src/dev-token.js";
import { startApi, type ApiHarness } from "../../apps/api/test/helpers.js";
import { loadConfig } from "../../packages/config/src/index.js";
import { startFaultPipeline, type FaultPipeline } from "../faults/support/fault-pipeline.js";
import { freePort, until } from "../helpers/ports.js";
import { REPO_ROOT, type AppProcess } from "../faults/support/processes.js";

/**
 * Secrets: CRM tokens encrypted at rest and never returned; no token, client secret, signature or JWT in any log line
 * of a full run of the real processes; constant-time signature comparison; no access without credentials; per-IP
 * rate limits on public endpoints.
 */

describe("secrets in a full run of receiver, worker and API processes", () => {
  let world: FaultPipeline;
  let processes: AppProcess[];
  let apiUrl: string;
  const JWT_SECRET = "security-test-jwt-secret-0123456789";
  beforeAll(async () => {
    world = await startFaultPipeline({ env: { JWT_SECRET, BULL_BOARD_USER: "ops", BULL_BOARD_PASSWORD: "ops-secret-pw" } });
    const apiPort = String(await freePort());
    apiUrl = `http://127.0.0.1:${apiPort}`;
    processes = [await world.start("receiver"), await world.startWorker(), await world.start("api", { PORT: apiPort }, "api")];
  }, 60_000);
  afterAll(async () => world?.close());

  it("keeps the CRM token encrypted and out of responses, and every secret out of every log line", async () => {
    const jwt = signDevToken(loadConfig({ JWT_SECRET }), "sec-org");
    const portal = world.sandbox.createPortal({ tier: "starter" });
    const headers = { authorization: `Bearer ${jwt}`, "content-type": "application/json" };
    const created = await fetch(`${apiUrl}/api/v1/crm-integration`, {
      method: "POST",
      headers,
      body: JSON.stringify({ provider: "hubspot", accessToken: portal.accessToken, portalId: String(portal.portalId) }),
    });
    const createdBody = await created.text();
    expect(created.status, createdBody).toBe(201);
    const id = (JSON.parse(createdBody) as { data: { id: string } }).data.id;
    const fetched = await (await fetch(`${apiUrl}/api/v1/crm-integration/${id}`, { headers })).text();
    for (const body of [createdBody, fetched]) expect(body).not.toContain(portal.accessToken);
    const row = await world.prisma.crmIntegration.findUniqueOrThrow({ where: { id } });
    expect(row.accessTokenEnc).not.toContain(portal.accessToken);

    // Webhooks flow (signed by the sandbox) and a signature of our own that the logs must not echo.
    await world.createContacts([{ email: "secret-run@sec.example", firstname: "S" }]);
    const ours = await world.post([{ eventId: 5, subscriptionId: 1, portalId: world.portalId, appId: 1, occurredAt: Date.now(), subscriptionType: "contact.creation", attemptNumber: 0, objectId: 999_999, changeSource: "CRM_UI" }]);
    expect(ours.status).toBe(200);
    await world.settled();
    await until(async () => (await world.leads()).has("secret-run@sec.example"), "the lead");

    const secrets = [portal.accessToken, world.clientSecret, jwt, JWT_SECRET, "ops-secret-pw", ...world.sandbox.portals().map((p) => p.accessToken)].filter(
      (s): s is string => typeof s === "string" && s.length > 0,
    );
    const lines = processes.flatMap((p) => p.lines);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
      expect(line).not.toMatch(/x-hubspot-signature/i);
      expect(line).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/); // no JWT of any kind
    }
  });

  it("refuses the API and the dashboard without credentials", async () => {
    expect((await fetch(`${apiUrl}/api/v1/leads`)).status).toBe(401);
    expect((await fetch(`${apiUrl}/admin/queues`)).status).toBe(401);
    const wrong = Buffer.from("ops:wrong").toString("base64");
    expect((await fetch(`${apiUrl}/admin/queues`, { headers: { authorization: `Basic ${wrong}` } })).status).toBe(401);
  });
});

describe("signature comparison and rate limits", () => {
  it("compares signatures in constant time (timingSafeEqual over equal-length buffers)", () => {
    const source = readFileSync(`${REPO_ROOT}packages/hubspot/src/webhook-signature.ts`, "utf8");
    expect(source).toMatch(/timingSafeEqual\(a, b\)/);
    expect(source).not.toMatch(/signature\s*===|===\s*expected/);
  });

  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  }, 60_000);
  afterAll(async () => api?.close());

  it("rate-limits public endpoints per IP (429 after the limit), other IPs unaffected", async () => {
    let limited: { statusCode: number; body: string } | undefined;
    for (let i = 0; i < 1_100 && !limited; i++) {
      const response = await api.app.inject({ method: "GET", url: "/health", remoteAddress: "203.0.113.7" });
      if (response.statusCode === 429) limited = response;
    }
    expect(limited?.statusCode).toBe(429);
    expect(JSON.parse(limited?.body ?? "{}")).toMatchObject({ success: false, error: { code: "rate_limited" } });
    expect((await api.app.inject({ method: "GET", url: "/health", remoteAddress: "203.0.113.8" })).statusCode).toBe(200);
  });
});
