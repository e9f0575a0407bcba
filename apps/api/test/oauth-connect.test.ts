import { createHmac, randomBytes } from "node:crypto";
import { decryptToken } from "@leadsync/core";
import { startSandbox, type Sandbox } from "@leadsync/hubspot-sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OAuthStates, stateKey } from "../src/routes/oauth/oauth-state.js";
import { startApi, TEST_JWT_SECRET, type ApiHarness } from "./helpers.js";

/**
 * The OAuth connect flow end to end over real HTTP: the API (app.inject, real Postgres and Redis) and the HubSpot
 * sandbox (listening), whose install screen the test "approves" by following the authorize URL.
 */

const API_URL = "http://api.example.test"; // startApi's API_URL: the redirect URI's host
const CALLBACK_PATH = "/api/v1/oauth/hubspot/callback";
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

let sandbox: Sandbox;
let api: ApiHarness;
/** Every secret the flow handled: none may appear in a log line or a response body. */
const secrets: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ clientSecret: "oauth-test-sandbox-client-secret", port: 0, defaultSubscriptions: false });
  api = await startApi({
    HUBSPOT_API_BASE: sandbox.url,
    HUBSPOT_CLIENT_ID: sandbox.app.clientId,
    HUBSPOT_CLIENT_SECRET: sandbox.app.clientSecret,
  });
});
afterAll(async () => {
  await api?.close();
  await sandbox?.close();
});

/** The key prefix the app runs with (startApi gives it a unique queue prefix). */
const keyPrefix = () => api.crmOutbound.opts.prefix ?? "";

async function startConnect(orgId: string): Promise<URL> {
  const res = await api.call(orgId, "GET", "/api/v1/crm-integration/connect/hubspot");
  expect(res.statusCode).toBe(200);
  return new URL(res.json().data.authorizeUrl as string);
}

/** The browser at the CRM's install screen: returns the callback path the CRM redirects it to. */
async function approve(authorizeUrl: URL, answer: Record<string, string> = {}): Promise<string> {
  const url = new URL(authorizeUrl);
  for (const [key, value] of Object.entries(answer)) url.searchParams.set(key, value);
  const res = await fetch(url, { redirect: "manual" });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location") ?? "");
  expect(`${location.origin}${location.pathname}`).toBe(`${API_URL}${CALLBACK_PATH}`);
  const code = location.searchParams.get("code");
  if (code) secrets.push(code);
  return `${location.pathname}${location.search}`;
}

async function callback(pathAndQuery: string, accept = "application/json") {
  const res = await api.app.inject({ method: "GET", url: pathAndQuery, headers: { accept } });
  api.bodies.push(res.body);
  return res;
}

function withParam(pathAndQuery: string, key: string, value: string): string {
  const url = new URL(pathAndQuery, API_URL);
  url.searchParams.set(key, value);
  return `${url.pathname}${url.search}`;
}

const integrationsOf = (orgId: string) => api.db.prisma.crmIntegration.count({ where: { orgId } });
const refusalLogged = (code: string) => api.logs.lines.some((line) => line.includes("OAuth callback refused") && line.includes(`"code":"${code}"`));

/** A state this server would sign, with chosen claims: for the checks a real flow cannot reach (expiry, provider). */
function signedState(claims: Record<string, unknown>): string {
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${body}.${createHmac("sha256", stateKey(TEST_JWT_SECRET)).update(body).digest("base64url")}`;
}

describe("GET /api/v1/crm-integration/connect/:provider", () => {
  it("answers the sandbox's authorize URL with client id, redirect URI, scopes, a signed state and an S256 challenge", async () => {
    const url = await startConnect("org-url");
    expect(`${url.origin}${url.pathname}`).toBe(`${sandbox.url}/oauth/authorize`);
    expect(url.searchParams.get("client_id")).toBe(sandbox.app.clientId);
    expect(url.searchParams.get("redirect_uri")).toBe(`${API_URL}${CALLBACK_PATH}`);
    expect(url.searchParams.get("scope")).toBe("crm.objects.contacts.read crm.objects.contacts.write crm.schemas.contacts.write");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get("state")).toMatch(/^[\w-]+\.[\w-]{43}$/);
    expect([...url.searchParams.keys()]).not.toContain("code_verifier");
    // The verifier stays in Redis under the nonce, with the flow's 10-minute TTL.
    const keys = await api.connection.keys(`${keyPrefix()}:oauth-state:*`);
    expect(keys.length).toBeGreaterThan(0);
    const ttl = await api.connection.pttl(keys[0] ?? "");
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
  });

  it("answers 401 without a JWT, 404 for an unknown provider", async () => {
    expect((await api.call(null, "GET", "/api/v1/crm-integration/connect/hubspot")).statusCode).toBe(401);
    const unknown = await api.call("org-x", "GET", "/api/v1/crm-integration/connect/dynamics");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: "unknown_provider", message: expect.stringContaining("hubspot") });
  });

  it("answers 400 naming the missing variable when the provider's OAuth app is not configured", async () => {
    const bare = await startApi({ HUBSPOT_API_BASE: sandbox.url });
    try {
      const res = await bare.call("org-bare", "GET", "/api/v1/crm-integration/connect/hubspot");
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: "oauth_not_configured", message: expect.stringContaining("HUBSPOT_CLIENT_ID"), details: { missing: "HUBSPOT_CLIENT_ID" } });
    } finally {
      await bare.close();
    }
  });

  it("sends the browser to app.hubspot.com when the API base is HubSpot's own (the install screen is not on the API host)", async () => {
    const real = await startApi({ HUBSPOT_CLIENT_ID: "real-app-client-id" });
    try {
      const res = await real.call("org-real", "GET", "/api/v1/crm-integration/connect/hubspot");
      const url = new URL(res.json().data.authorizeUrl as string);
      expect(`${url.origin}${url.pathname}`).toBe("https://app.hubspot.com/oauth/authorize");
      expect(url.searchParams.get("client_id")).toBe("real-app-client-id");
    } finally {
      await real.close();
    }
  });
});

describe("GET /api/v1/oauth/:provider/callback", () => {
  it("connects the approved portal for the state's org: tokens encrypted, authType oauth, status active, property ensured", async () => {
    const portal = sandbox.createPortal({ authType: "oauth", tier: "professional" });
    secrets.push(portal.accessToken, portal.refreshToken ?? "");
    const path = await approve(await startConnect("org-flow"), { portalId: String(portal.portalId) });

    const res = await callback(path);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      success: true,
      data: { id: expect.any(String), provider: "hubspot", portalId: String(portal.portalId), authType: "oauth", status: "active", webhooksEnabled: false },
    });

    const row = await api.db.prisma.crmIntegration.findUniqueOrThrow({ where: { id: res.json().data.id } });
    expect(row.orgId).toBe("org-flow");
    const accessToken = decryptToken(row.accessTokenEnc ?? "", api.config.encryptionKey);
    const refreshToken = decryptToken(row.refreshTokenEnc ?? "", api.config.encryptionKey);
    secrets.push(accessToken, refreshToken);
    expect(row.accessTokenEnc).not.toContain(accessToken);
    expect(refreshToken).toBe(portal.refreshToken);
    expect(row.accessTokenExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
    const info = await fetch(`${sandbox.url}/oauth/v1/access-tokens/${accessToken}`);
    expect(((await info.json()) as { hub_id: number }).hub_id).toBe(portal.portalId);
    expect(row.settings).toMatchObject({ provider: { scopes: expect.arrayContaining(["crm.schemas.contacts.write"]) } });

    const property = await fetch(`${sandbox.url}/crm/v3/properties/contacts/lead_source_system`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(property.status).toBe(200);
    // The flow's nonce (and the verifier stored under it) is gone: the state was single-use.
    const state = new URL(path, API_URL).searchParams.get("state") ?? "";
    const { nonce } = JSON.parse(Buffer.from(state.split(".")[0] ?? "", "base64url").toString()) as { nonce: string };
    expect(await api.connection.exists(`${keyPrefix()}:oauth-state:${nonce}`)).toBe(0);
    const listed = await api.call("org-flow", "GET", "/api/v1/crm-integration");
    expect(listed.json().data.map((i: { id: string }) => i.id)).toContain(row.id);
  });

  it("answers a browser with a small page", async () => {
    const portal = sandbox.createPortal({ authType: "oauth" });
    secrets.push(portal.accessToken, portal.refreshToken ?? "");
    const res = await callback(await approve(await startConnect("org-page"), { portalId: String(portal.portalId) }), BROWSER_ACCEPT);
    expect(res.statusCode).toBe(201);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.body).toContain(`Connected HubSpot account ${portal.portalId}. You can close this window.`);
    expect(await integrationsOf("org-page")).toBe(1);
  });

  it("refuses a forged state (tampered claims, another server's key, garbage): 400 state_invalid, logged, nothing stored", async () => {
    const portal = sandbox.createPortal({ authType: "oauth" });
    secrets.push(portal.accessToken, portal.refreshToken ?? "");
    const path = await approve(await startConnect("org-forge"), { portalId: String(portal.portalId) });
    const state = new URL(path, API_URL).searchParams.get("state") ?? "";
    const [body, signature] = state.split(".");
    const claims = JSON.parse(Buffer.from(body ?? "", "base64url").toString()) as Record<string, unknown>;
    const tampered = `${Buffer.from(JSON.stringify({ ...claims, org: "org-victim" })).toString("base64url")}.${signature}`;
    const otherKey = createHmac("sha256", "another-secret").update(body ?? "").digest("base64url");
    for (const forged of [tampered, `${body}.${otherKey}`, "not-a-state", `${body}.${signature}.extra`, "..."]) {
      const res = await callback(withParam(path, "state", forged));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ success: false, error: { code: "state_invalid", message: expect.stringContaining("invalid") } });
    }
    const missing = await callback(`${CALLBACK_PATH}?code=abc`);
    expect(missing.json().error.code).toBe("state_missing");
    expect(refusalLogged("state_invalid")).toBe(true);
    expect(await integrationsOf("org-forge")).toBe(0);
    expect(await integrationsOf("org-victim")).toBe(0);
    // The real state was not burnt by the forgeries: it still connects.
    expect((await callback(path)).statusCode).toBe(201);
  });

  it("refuses an expired state: 400 state_expired", async () => {
    const issuedEarlier = new OAuthStates(api.connection, TEST_JWT_SECRET, keyPrefix(), () => Date.now() - 11 * 60_000);
    const flow = await issuedEarlier.start("org-expired", "hubspot");
    const path = withParam(await approve(await startConnect("org-expired")), "state", flow.state);
    const res = await callback(path);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "state_expired", message: expect.stringContaining("expired") });
    expect(refusalLogged("state_expired")).toBe(true);
    const crafted = signedState({ v: 1, org: "org-expired", provider: "hubspot", nonce: randomBytes(32).toString("base64url"), exp: Date.now() - 1 });
    expect((await callback(withParam(path, "state", crafted))).json().error.code).toBe("state_expired");
    expect(await integrationsOf("org-expired")).toBe(0);
  });

  it("refuses a replayed state: 400 state_used, the first connection kept", async () => {
    const portal = sandbox.createPortal({ authType: "oauth" });
    secrets.push(portal.accessToken, portal.refreshToken ?? "");
    const path = await approve(await startConnect("org-replay"), { portalId: String(portal.portalId) });
    expect((await callback(path)).statusCode).toBe(201);
    const replayed = await callback(path);
    expect(replayed.statusCode).toBe(400);
    expect(replayed.json().error).toMatchObject({ code: "state_used", message: expect.stringContaining("already used") });
    // Same state with a fresh code from the CRM: still used.
    const fresh = await approve(new URL(`${sandbox.url}/oauth/authorize?${new URLSearchParams({ client_id: sandbox.app.clientId, redirect_uri: `${API_URL}${CALLBACK_PATH}`, scope: "crm.objects.contacts.read", state: new URL(path, API_URL).searchParams.get("state") ?? "" })}`));
    expect((await callback(fresh)).json().error.code).toBe("state_used");
    expect(refusalLogged("state_used")).toBe(true);
    expect(await integrationsOf("org-replay")).toBe(1);
  });

  it("refuses a state issued for another provider: 400 state_provider_mismatch", async () => {
    const states = new OAuthStates(api.connection, TEST_JWT_SECRET, keyPrefix());
    const other = await states.start("org-mismatch", "salesforce");
    const res = await callback(withParam(await approve(await startConnect("org-mismatch")), "state", other.state));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "state_provider_mismatch", message: "The OAuth state was issued for salesforce, not hubspot" });
    expect(refusalLogged("state_provider_mismatch")).toBe(true);
    expect(await integrationsOf("org-mismatch")).toBe(0);
  });

  it("answers error=access_denied with a clear 400 (page or JSON) and consumes the state", async () => {
    const authorizeUrl = await startConnect("org-denied");
    const path = await approve(authorizeUrl, { decision: "deny" });
    expect(new URL(path, API_URL).searchParams.get("error")).toBe("access_denied");
    const res = await callback(path);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "oauth_access_denied", message: expect.stringContaining("HubSpot did not authorise the connection (access_denied") });
    expect(refusalLogged("oauth_access_denied")).toBe(true);

    const page = await callback(await approve(await startConnect("org-denied"), { decision: "deny" }), BROWSER_ACCEPT);
    expect(page.statusCode).toBe(400);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain("Could not connect HubSpot");
    expect(page.body).toContain("did not authorise");
    expect((await callback(withParam(path, "code", "late"))).json().error.code).toBe("state_used");
    expect(await integrationsOf("org-denied")).toBe(0);
  });

  it("answers 409 when the approved portal is already connected (by any org), storing nothing", async () => {
    const portal = sandbox.createPortal({ authType: "oauth" });
    secrets.push(portal.accessToken, portal.refreshToken ?? "");
    expect((await callback(await approve(await startConnect("org-first"), { portalId: String(portal.portalId) }))).statusCode).toBe(201);
    for (const org of ["org-first", "org-second"]) {
      const res = await callback(await approve(await startConnect(org), { portalId: String(portal.portalId) }));
      expect(res.statusCode).toBe(409);
      expect(res.json().error).toEqual({ code: "integration_exists", message: `HubSpot account ${portal.portalId} is already connected` });
    }
    expect(refusalLogged("integration_exists")).toBe(true);
    expect(await integrationsOf("org-second")).toBe(0);
    expect(await api.db.prisma.crmIntegration.count({ where: { externalAccountId: String(portal.portalId) } })).toBe(1);
  });

  it("answers 400 when HubSpot refuses the code, 404 for an unknown provider", async () => {
    const res = await callback(withParam(await approve(await startConnect("org-badcode")), "code", "not-a-code"));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "hubspot_code_rejected", message: expect.stringContaining("BAD_AUTH_CODE") });
    expect(await integrationsOf("org-badcode")).toBe(0);
    const unknown = await callback("/api/v1/oauth/dynamics/callback?code=a&state=b");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("unknown_provider");
  });

  it("documents both routes in the OpenAPI document", async () => {
    const spec = (await api.app.inject("/docs/json")).json() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(["/api/v1/crm-integration/connect/{provider}", "/api/v1/oauth/{provider}/callback"]));
  });

  it("leaks no token, code or verifier into logs or responses", () => {
    const text = `${api.logs.text}\n${api.bodies.join("\n")}`;
    for (const secret of secrets.filter(Boolean)) expect(text).not.toContain(secret);
    expect(api.logs.text).not.toContain("code_verifier");
  });
});
