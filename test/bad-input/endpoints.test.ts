import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type ApiHarness } from "../../apps/api/test/helpers.js";
import { startFaultPipeline, type FaultPipeline } from "../faults/support/fault-pipeline.js";
import type { AppProcess } from "../faults/support/processes.js";

/**
 * Hostile and malformed input to every endpoint. Each answers the contract's status with a JSON error, nothing is
 * enqueued or written, and the process keeps serving (a follow-up request succeeds).
 */

const event = (overrides: Record<string, unknown> = {}) => ({
  eventId: 1, subscriptionId: 1, portalId: 1, appId: 1, occurredAt: Date.now(), subscriptionType: "contact.creation",
  attemptNumber: 0, objectId: 1, changeSource: "CRM_UI", ...overrides,
});

describe("receiver process: bad webhooks", () => {
  let world: FaultPipeline;
  let receiver: AppProcess;
  beforeAll(async () => {
    world = await startFaultPipeline({ env: { WEBHOOK_BODY_LIMIT_BYTES: "4096" } });
    receiver = await world.start("receiver");
  }, 60_000);
  afterAll(async () => world?.close());

  const unsigned = (body: string, headers: Record<string, string> = {}) =>
    fetch(world.webhookUrl, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  const cases: [string, () => Promise<{ status: number; body: string }>, number, string][] = [
    ["missing signature", async () => res(await unsigned(JSON.stringify([event()]))), 401, "invalid_signature"],
    ["wrong signature of the right length", () => world.post([event()], { headers: { "x-hubspot-signature-v3": Buffer.alloc(32, 7).toString("base64") } }), 401, "invalid_signature"],
    ["stale (replayed) timestamp", () => stale(world), 401, "invalid_signature"],
    ["malformed JSON", () => world.post([], { body: "[{" }), 400, "invalid_body"],
    ["not an array", () => world.post([], { body: JSON.stringify({ events: [] }) }), 400, "invalid_body"],
    ["missing objectId", () => world.post([{ ...event(), objectId: undefined }]), 400, "invalid_body"],
    ["mistyped occurredAt", () => world.post([event({ occurredAt: "yesterday" })]), 400, "invalid_body"],
    ["body over the limit", () => world.post([event({ propertyValue: "x".repeat(10_000) })]), 413, "payload_too_large"],
    ["wrong content type", async () => res(await fetch(world.webhookUrl, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" })), 415, "unsupported_media_type"],
  ];
  for (const [name, send, status, code] of cases) {
    it(`${name} → ${status} ${code}, nothing queued, still serving`, async () => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(JSON.parse(response.body)).toMatchObject({ success: false, error: { code, message: expect.any(String) } });
      expect(await world.events.count()).toBe(0);
      expect((await fetch(`${world.receiverUrl}/health`)).status).toBe(200);
      expect(receiver.running()).toBe(true);
    });
  }

  it("an unknown subscriptionType is acknowledged (HubSpot retries any 4xx/5xx) and ignored, not a crash", async () => {
    const response = await world.post([event({ subscriptionType: "contact.teleported" })]);
    expect(response.status).toBe(200);
    expect(receiver.running()).toBe(true);
    await world.events.obliterate({ force: true });
  });

  it("odd unicode (lone surrogates, RTL marks, NUL) in a property value is accepted as data, not a crash", async () => {
    const response = await world.post([event({ subscriptionType: "contact.propertyChange", propertyName: "firstname", propertyValue: "\ud800\u202e\u0000名" })]);
    expect(response.status).toBe(200);
    expect(receiver.running()).toBe(true);
    await world.events.obliterate({ force: true });
  });
});

describe("API: bad requests", () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  }, 60_000);
  afterAll(async () => api?.close());

  const raw = (method: "GET" | "POST" | "PATCH", url: string, headers: Record<string, string>, payload?: string) =>
    api.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const forge = (header: object, claims: object, secret = "wrong-secret") => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const unsigned = `${part(header)}.${part(claims)}`;
    return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
  };

  it.each([
    ["no token", {}],
    ["garbage token", bearer("not.a.jwt")],
    ["forged signature", bearer(forge({ alg: "HS256", typ: "JWT" }, { orgId: "o1" }))],
    ["alg:none", bearer(`${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from('{"orgId":"o1"}').toString("base64url")}.`)],
  ])("%s → 401 JSON", async (_name, headers) => {
    const response = await raw("GET", "/api/v1/leads", headers);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ success: false, error: { code: "unauthorized" } });
  });

  it("an expired token → 401 'Token expired'", async () => {
    const expired = api.app.jwt.sign({ orgId: "o1" }, { expiresIn: -10 } as never);
    const response = await raw("GET", "/api/v1/leads", bearer(expired));
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toMatch(/expired/i);
  });

  it.each([
    ["GET", "/api/v1/leads/not-a-uuid", 400],
    ["GET", "/api/v1/leads/..%2F..%2Fetc%2Fpasswd", 400],
    ["GET", "/api/v1/leads/../crm-integration", 200], // normalised to the org's own (empty) list
    ["GET", "/api/v1/leads?limit=-1", 400],
    ["GET", "/api/v1/leads?limit=99999999999", 400],
    ["GET", "/api/v1/leads?email=' OR 1=1 --", 200],
    ["GET", "/api/v1/crm-integration/00000000-0000-0000-0000-000000000000", 404],
  ] as const)("%s %s → %i with a JSON body", async (method, url, status) => {
    const response = await api.call("org-a", method, url);
    expect(response.statusCode).toBe(status);
    expect(response.json()).toHaveProperty("success", status === 200);
    if (status === 200) expect(response.json().data).toEqual([]);
  });

  it("malformed JSON, wrong content type, missing and mistyped fields, huge values → 4xx, nothing written", async () => {
    const auth = { ...bearer(api.token("org-a")) };
    const bad = [
      await raw("POST", "/api/v1/leads", { ...auth, "content-type": "application/json" }, "{"),
      await raw("POST", "/api/v1/leads", { ...auth, "content-type": "text/plain" }, "email=x"),
      await api.call("org-a", "POST", "/api/v1/leads", {}),
      await api.call("org-a", "POST", "/api/v1/leads", { email: 42 }),
      await api.call("org-a", "POST", "/api/v1/leads", { email: "not-an-email" }),
      await api.call("org-a", "POST", "/api/v1/leads", { email: `${"a".repeat(2_000_000)}@x.io` }),
      await api.call("org-a", "POST", "/api/v1/crm-integration", { provider: "salesforce", accessToken: "x", portalId: "1" }),
    ];
    for (const response of bad) {
      expect(response.statusCode, response.body.slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
      expect(response.json()).toMatchObject({ success: false, error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect(await api.db.prisma.lead.count()).toBe(0);
    expect(await api.db.prisma.crmIntegration.count()).toBe(0);
    expect((await api.app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
  });

  it("another org's lead answers 404", async () => {
    const created = await api.call("org-a", "POST", "/api/v1/leads", { email: "mine@a.example" });
    expect(created.statusCode).toBe(201);
    const id = created.json().data.id as string;
    expect((await api.call("org-b", "GET", `/api/v1/leads/${id}`)).statusCode).toBe(404);
    expect((await api.call("org-b", "PATCH", `/api/v1/leads/${id}`, { firstName: "Mallory" })).statusCode).toBe(404);
    expect((await api.db.prisma.lead.findUniqueOrThrow({ where: { id } })).firstName).toBeNull();
  });
});

async function res(response: Response) {
  return { status: response.status, body: await response.text() };
}

async function stale(world: FaultPipeline) {
  const { signV3 } = await import("../../packages/hubspot-sandbox/src/index.js");
  const body = JSON.stringify([event()]);
  const timestamp = Date.now() - 6 * 60_000;
  return res(
    await fetch(world.webhookUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hubspot-signature-v3": signV3(world.clientSecret, "POST", world.webhookUrl, body, timestamp),
        "x-hubspot-request-timestamp": String(timestamp),
      },
      body,
    }),
  );
}
