import { randomUUID } from "node:crypto";
import { decryptToken } from "@leadsync/core";
import { startSandbox, type PortalInfo, type Sandbox } from "@leadsync/hubspot-sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type ApiHarness } from "./helpers.js";

const SANDBOX_SECRET = "api-test-sandbox-client-secret";

let sandbox: Sandbox;
let api: ApiHarness;
/** Every token the tests hand to the API: none may appear in a response body or a log line. */
const secrets: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ clientSecret: SANDBOX_SECRET, port: 0, defaultSubscriptions: false });
  api = await startApi({
    HUBSPOT_API_BASE: sandbox.url,
    HUBSPOT_APP_ID: String(sandbox.app.appId),
    HUBSPOT_DEVELOPER_API_KEY: sandbox.app.developerApiKey,
    HUBSPOT_CLIENT_ID: sandbox.app.clientId,
    HUBSPOT_CLIENT_SECRET: sandbox.app.clientSecret,
  });
});
afterAll(async () => {
  await api?.close();
  await sandbox?.close();
});

function newPortal(authType: "private_app" | "oauth" = "private_app"): PortalInfo {
  const portal = sandbox.createPortal({ tier: "professional", authType });
  secrets.push(portal.accessToken, ...(portal.refreshToken ? [portal.refreshToken] : []));
  return portal;
}

async function connect(orgId: string, portal: PortalInfo, extra: Record<string, unknown> = {}) {
  return api.call(orgId, "POST", "/api/v1/crm-integration", { provider: "hubspot", accessToken: portal.accessToken, portalId: String(portal.portalId), ...extra });
}

async function leadSourceProperty(portal: PortalInfo) {
  const res = await fetch(`${sandbox.url}/crm/v3/properties/contacts/lead_source_system`, { headers: { authorization: `Bearer ${portal.accessToken}` } });
  return { status: res.status, body: (await res.json()) as { options?: { value: string }[] } };
}

async function sandboxSubscriptions() {
  const res = await fetch(`${sandbox.url}/webhooks/v3/${sandbox.app.appId}/subscriptions?hapikey=${sandbox.app.developerApiKey}`);
  return ((await res.json()) as { results: { id: string | number; eventType: string; propertyName?: string; active: boolean }[] }).results;
}

describe("POST /api/v1/crm-integration", () => {
  it("checks the token, creates lead_source_system with the three options, stores the token encrypted", async () => {
    const portal = newPortal();
    const res = await connect("org-int", portal, { settings: { syncDirection: "bidirectional" } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      success: true,
      data: {
        id: expect.any(String),
        provider: "hubspot",
        accountId: String(portal.portalId),
        portalId: String(portal.portalId),
        authType: "private_app",
        tier: "starter",
        status: "active",
        settings: { autoSync: { enabled: true }, syncDirection: "bidirectional", conflictRule: "latest_wins", fieldMapping: expect.any(Object), onContactDeleted: "keep", createCrmLead: false },
        webhooksEnabled: false,
        webhookUrl: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    });

    const row = await api.db.prisma.crmIntegration.findUniqueOrThrow({ where: { id: res.json().data.id } });
    expect(row.accessTokenEnc).toBeTruthy();
    expect(row.accessTokenEnc).not.toContain(portal.accessToken);
    expect(decryptToken(row.accessTokenEnc ?? "", api.config.encryptionKey)).toBe(portal.accessToken);

    const property = await leadSourceProperty(portal);
    expect(property.status).toBe(200);
    expect(property.body.options?.map((o) => o.value).sort()).toEqual(["hubspot", "jazzaam", "manual"]);
  });

  it("is idempotent toward HubSpot: reconnecting a portal leaves one property with the same three options", async () => {
    const portal = newPortal();
    const first = await connect("org-re", portal, { tier: "professional" });
    expect(first.statusCode).toBe(201);
    expect(first.json().data.tier).toBe("professional");
    await api.db.prisma.crmIntegration.delete({ where: { id: first.json().data.id } });
    expect((await connect("org-re", portal)).statusCode).toBe(201);
    const property = await leadSourceProperty(portal);
    expect(property.body.options?.map((o) => o.value).sort()).toEqual(["hubspot", "jazzaam", "manual"]);
  });

  it("answers 409 when the portal is already connected (by any org)", async () => {
    const portal = newPortal();
    expect((await connect("org-dup", portal)).statusCode).toBe(201);
    for (const org of ["org-dup", "org-dup-other"]) {
      const res = await connect(org, portal);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe("integration_exists");
    }
  });

  it("answers 422 with a clear error and stores nothing when HubSpot rejects the token", async () => {
    const portal = newPortal();
    const forged = `pat-na1-${randomUUID()}`;
    secrets.push(forged);
    const res = await api.call("org-bad", "POST", "/api/v1/crm-integration", { provider: "hubspot", accessToken: forged, portalId: String(portal.portalId) });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: "hubspot_token_rejected", message: expect.stringMatching(/rejected/) });
    expect(await api.db.prisma.crmIntegration.count({ where: { orgId: "org-bad" } })).toBe(0);
  });

  it("answers 400 portal_mismatch when the token belongs to another portal", async () => {
    const portal = newPortal();
    const other = newPortal();
    const res = await api.call("org-mis", "POST", "/api/v1/crm-integration", { provider: "hubspot", accessToken: portal.accessToken, portalId: String(other.portalId) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("portal_mismatch");
    expect(await api.db.prisma.crmIntegration.count({ where: { orgId: "org-mis" } })).toBe(0);
  });

  it("connects with an OAuth refresh token: refreshed once, both tokens stored encrypted", async () => {
    const portal = newPortal("oauth");
    const res = await api.call("org-oauth", "POST", "/api/v1/crm-integration", { provider: "hubspot", refreshToken: portal.refreshToken, portalId: portal.portalId });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.authType).toBe("oauth");
    const row = await api.db.prisma.crmIntegration.findUniqueOrThrow({ where: { id: res.json().data.id } });
    const accessToken = decryptToken(row.accessTokenEnc ?? "", api.config.encryptionKey);
    secrets.push(accessToken, decryptToken(row.refreshTokenEnc ?? "", api.config.encryptionKey));
    expect(accessToken.length).toBeGreaterThan(0);
    expect(row.accessTokenExpiresAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it("answers 400 naming the field for a bad body", async () => {
    const missing = await api.call("org-v", "POST", "/api/v1/crm-integration", { provider: "hubspot", portalId: "1" });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details[0].field).toBe("accessToken");
    const unknown = await api.call("org-v", "POST", "/api/v1/crm-integration", { provider: "hubspot", accessToken: "x", portalId: "1", apiKey: "y" });
    expect(unknown.json().error.details).toEqual([{ field: "apiKey", message: "unknown field" }]);
    const provider = await api.call("org-v", "POST", "/api/v1/crm-integration", { provider: "dynamics", accessToken: "x", portalId: "1" });
    expect(provider.json().error.details[0].field).toBe("provider");
    // Each provider checks its own credentials' shape: a Salesforce body without its instance URL names that field.
    const salesforce = await api.call("org-v", "POST", "/api/v1/crm-integration", { provider: "salesforce", accessToken: "x" });
    expect(salesforce.statusCode).toBe(400);
    expect(salesforce.json().error.details.map((d: { field: string }) => d.field)).toContain("instanceUrl");
  });
});

describe("reading and configuring integrations", () => {
  let integrationId: string;
  beforeAll(async () => {
    integrationId = (await connect("org-cfg", newPortal())).json().data.id;
  });

  it("lists and gets the org's integrations", async () => {
    const list = (await api.call("org-cfg", "GET", "/api/v1/crm-integration")).json();
    expect(list.success).toBe(true);
    expect(list.data.map((i: { id: string }) => i.id)).toEqual([integrationId]);
    const one = await api.call("org-cfg", "GET", `/api/v1/crm-integration/${integrationId}`);
    expect(one.json().data.id).toBe(integrationId);
  });

  it("PATCH merges the guide's settings (one-way, then bidirectional)", async () => {
    const oneWay = await api.call("org-cfg", "PATCH", `/api/v1/crm-integration/${integrationId}`, { settings: { autoSync: { enabled: false }, syncDirection: "from_crm" } });
    expect(oneWay.statusCode).toBe(200);
    expect(oneWay.json().data.settings).toMatchObject({ autoSync: { enabled: false }, syncDirection: "from_crm" });
    const partial = await api.call("org-cfg", "PATCH", `/api/v1/crm-integration/${integrationId}`, { settings: { autoSync: { enabled: true } } });
    expect(partial.json().data.settings).toMatchObject({ autoSync: { enabled: true }, syncDirection: "from_crm" });
    const both = await api.call("org-cfg", "PATCH", `/api/v1/crm-integration/${integrationId}`, { settings: { autoSync: { enabled: true }, syncDirection: "bidirectional" } });
    expect(both.json().data.settings).toMatchObject({ autoSync: { enabled: true }, syncDirection: "bidirectional" });
  });

  it("PATCH rejects an unknown direction or setting naming the field", async () => {
    const res = await api.call("org-cfg", "PATCH", `/api/v1/crm-integration/${integrationId}`, { settings: { syncDirection: "sideways" } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe("settings.syncDirection");
    const unknown = await api.call("org-cfg", "PATCH", `/api/v1/crm-integration/${integrationId}`, { settings: { colour: "blue" } });
    expect(unknown.json().error.details).toEqual([{ field: "settings.colour", message: "unknown field" }]);
    const badRule = await api.call("org-cfg", "PATCH", `/api/v1/crm-integration/${integrationId}`, { settings: { conflictRule: "crm_wins" } });
    expect(badRule.statusCode).toBe(400);
    expect(badRule.json().error.details[0].field).toBe("settings.conflictRule");
  });

  it("answers 404 for another org on every integration route, and changes nothing", async () => {
    const routes: ["GET" | "PATCH" | "POST", string, unknown?][] = [
      ["GET", `/api/v1/crm-integration/${integrationId}`],
      ["PATCH", `/api/v1/crm-integration/${integrationId}`, { settings: { syncDirection: "to_crm" } }],
      ["POST", `/api/v1/crm-integration/${integrationId}/enable-webhooks`, {}],
      ["GET", `/api/v1/crm-integration/${integrationId}/webhook-status`],
    ];
    for (const [method, url, body] of routes) {
      const res = await api.call("org-intruder", method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await api.call("org-intruder", "GET", "/api/v1/crm-integration")).json().data).toEqual([]);
    const row = await api.db.prisma.crmIntegration.findUniqueOrThrow({ where: { id: integrationId } });
    expect(row.syncDirection).toBe("bidirectional");
    expect(row.webhooksEnabled).toBe(false);
  });
});

describe("webhooks", () => {
  let integrationId: string;
  beforeAll(async () => {
    integrationId = (await connect("org-wh", newPortal())).json().data.id;
  });

  it("webhook-status before enabling: disabled, nothing received", async () => {
    const res = await api.call("org-wh", "GET", `/api/v1/crm-integration/${integrationId}/webhook-status`);
    expect(res.json()).toEqual({
      success: true,
      data: {
        enabled: false,
        totalReceived: 0,
        lastReceivedAt: null,
        subscriptionId: null,
        events: [],
        webhookUrl: null,
        syncHealth: { leadsInSync: 0, excluded: { total: 0, byReason: {} }, failing: { count: 0, lastError: null } },
        backfill: null,
        reconciliation: null,
        catchUp: { unsent: 0, lastRun: null },
      },
    });
  });

  it("enable-webhooks answers the guide's shape, and twice gives the same subscriptions without duplicates", async () => {
    const webhookUrl = "https://leads.example.com/api/v1/webhooks/hubspot";
    const first = await api.call("org-wh", "POST", `/api/v1/crm-integration/${integrationId}/enable-webhooks`, { webhookUrl });
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body).toMatchObject({ success: true, data: { webhookUrl }, message: "Webhooks enabled successfully" });
    const subscriptions = body.data.subscriptions as { id: string; eventType: string; active: boolean; propertyName?: string }[];
    expect(subscriptions.every((s) => typeof s.id === "string" && s.active === true)).toBe(true);
    expect(new Set(subscriptions.map((s) => s.eventType))).toEqual(new Set(["contact.creation", "contact.deletion", "contact.merge", "contact.privacyDeletion", "contact.propertyChange", "contact.restore"]));
    expect(subscriptions.filter((s) => s.eventType === "contact.propertyChange").map((s) => s.propertyName).sort()).toEqual(
      ["company", "email", "firstname", "jobtitle", "lastname", "lead_source_system", "phone"],
    );

    const second = await api.call("org-wh", "POST", `/api/v1/crm-integration/${integrationId}/enable-webhooks`, { webhookUrl });
    expect(second.json().data.subscriptions.map((s: { id: string }) => s.id)).toEqual(subscriptions.map((s) => s.id));
    const atHubSpot = await sandboxSubscriptions();
    expect(atHubSpot).toHaveLength(subscriptions.length);

    const settings = await fetch(`${sandbox.url}/webhooks/v3/${sandbox.app.appId}/settings?hapikey=${sandbox.app.developerApiKey}`);
    expect(((await settings.json()) as { targetUrl: string }).targetUrl).toBe(webhookUrl);

    const status = (await api.call("org-wh", "GET", `/api/v1/crm-integration/${integrationId}/webhook-status`)).json().data;
    expect(status).toMatchObject({ enabled: true, webhookUrl, subscriptionId: subscriptions[0]?.id });
    expect(status.events.sort()).toEqual(["contact.creation", "contact.deletion", "contact.merge", "contact.privacyDeletion", "contact.propertyChange", "contact.restore"]);
  });

  it("defaults the target to API_URL + /api/v1/webhooks/hubspot", async () => {
    const res = await api.call("org-wh", "POST", `/api/v1/crm-integration/${integrationId}/enable-webhooks`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.webhookUrl).toBe("http://api.example.test/api/v1/webhooks/hubspot");
  });

  it("webhook-status counts what the rows say: received, excluded by reason, in sync, failing", async () => {
    const integration = await api.db.prisma.crmIntegration.findUniqueOrThrow({ where: { id: integrationId } });
    const event = (n: number, outcome: string, reason: string | null, receivedAt: Date) => ({
      dedupeKey: `status-test-${n}`,
      integrationId,
      provider: "hubspot" as const,
      externalAccountId: integration.externalAccountId,
      eventId: String(n),
      subscriptionType: "contact.creation",
      objectId: String(1000 + n),
      occurredAt: receivedAt,
      outcome,
      reason,
      receivedAt,
    });
    const last = new Date("2026-11-20T10:30:00.000Z");
    await api.db.prisma.webhookEvent.createMany({
      data: [
        event(1, "processed", null, new Date("2026-11-20T10:00:00.000Z")),
        event(2, "skipped", "no_email", new Date("2026-11-20T10:10:00.000Z")),
        event(3, "skipped", "own_record", new Date("2026-11-20T10:20:00.000Z")),
        event(4, "skipped", "own_record", last),
      ],
    });
    const form = await api.db.prisma.form.create({ data: { orgId: "org-wh", name: "CRM Import", isCrmImport: true } });
    const lead = await api.db.prisma.lead.create({ data: { orgId: "org-wh", formId: form.id, email: "linked@example.com", source: "hubspot" } });
    await api.db.prisma.leadCrmLink.create({ data: { leadId: lead.id, integrationId, provider: "hubspot", externalId: "1001" } });
    await api.db.prisma.integrationError.create({ data: { integrationId, code: "outbound_failed", message: "older", createdAt: new Date("2026-11-20T09:00:00Z") } });
    await api.db.prisma.integrationError.create({ data: { integrationId, code: "inbound_failed", message: "HubSpot answered 500", createdAt: new Date("2026-11-20T11:00:00Z") } });

    const status = (await api.call("org-wh", "GET", `/api/v1/crm-integration/${integrationId}/webhook-status`)).json().data;
    expect(status.totalReceived).toBe(4);
    expect(status.lastReceivedAt).toBe(last.toISOString());
    expect(status.syncHealth).toEqual({
      leadsInSync: 1,
      excluded: { total: 3, byReason: { no_email: 1, own_record: 2 } },
      failing: { count: 2, lastError: { code: "inbound_failed", message: "HubSpot answered 500", at: "2026-11-20T11:00:00.000Z" } },
    });
  });
});

describe("a private-app setup (no developer-app credentials)", () => {
  let privateApi: ApiHarness;
  beforeAll(async () => {
    privateApi = await startApi({ HUBSPOT_API_BASE: sandbox.url });
  });
  afterAll(async () => {
    await privateApi?.close();
  });

  it("enable-webhooks explains what to configure in HubSpot, and changes nothing", async () => {
    const portal = newPortal();
    const created = await privateApi.call("org-pa", "POST", "/api/v1/crm-integration", { provider: "hubspot", accessToken: portal.accessToken, portalId: String(portal.portalId) });
    expect(created.statusCode).toBe(201);
    const id = created.json().data.id;
    const res = await privateApi.call("org-pa", "POST", `/api/v1/crm-integration/${id}/enable-webhooks`, { webhookUrl: "https://leads.example.com/api/v1/webhooks/hubspot" });
    expect(res.statusCode).toBe(409);
    const { error } = res.json();
    expect(error.code).toBe("webhooks_managed_in_hubspot");
    expect(error.message).toContain("https://leads.example.com/api/v1/webhooks/hubspot");
    for (const text of ["contact.creation", "contact.deletion", "contact.propertyChange (lead_source_system)", "Private Apps"]) {
      expect(error.message).toContain(text);
    }
    expect(error.details.targetUrl).toBe("https://leads.example.com/api/v1/webhooks/hubspot");
    expect((await privateApi.db.prisma.crmIntegration.findUniqueOrThrow({ where: { id } })).webhooksEnabled).toBe(false);
    privateApi.bodies.forEach((body) => api.bodies.push(body));
    api.logs.lines.push(...privateApi.logs.lines);
  });
});

describe("secrets", () => {
  it("no response body and no log line contains any token the tests used", () => {
    expect(secrets.length).toBeGreaterThan(4);
    expect(api.bodies.length).toBeGreaterThan(10);
    expect(api.logs.lines.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      for (const body of api.bodies) expect(body.includes(secret), `response leaked a token: ${body.slice(0, 200)}`).toBe(false);
      expect(api.logs.text.includes(secret), "a log line contains a token").toBe(false);
    }
    // Nor the encrypted form, nor the JWTs the harness sent.
    for (const body of api.bodies) expect(body).not.toMatch(/accessTokenEnc|refreshTokenEnc|"v1\.[A-Za-z0-9_-]+\./);
    expect(api.logs.text).not.toContain(api.token("org-int"));
  });
});
