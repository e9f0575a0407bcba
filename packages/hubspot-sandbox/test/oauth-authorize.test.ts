import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox, type SandboxOptions } from "../src/index.js";
import { admin, CLIENT_SECRET, sdkClient } from "./helpers.js";

const REDIRECT_URI = "http://app.example.test/api/v1/oauth/hubspot/callback";
const SCOPES = "crm.objects.contacts.read crm.objects.contacts.write crm.schemas.contacts.write";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ clientSecret: CLIENT_SECRET, ...options });
  cleanups.push(() => sandbox.close());
  return sandbox;
}

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** Follows the install screen without following the redirect: the 302's Location, parsed. */
async function authorize(sandbox: Sandbox, params: Record<string, string | undefined> = {}) {
  const query = new URLSearchParams();
  const all = { client_id: sandbox.app.clientId, redirect_uri: REDIRECT_URI, scope: SCOPES, state: "opaque-state", ...params };
  for (const [key, value] of Object.entries(all)) if (value !== undefined) query.set(key, value);
  const response = await fetch(`${sandbox.url}/oauth/authorize?${query}`, { redirect: "manual" });
  const location = response.headers.get("location");
  return { status: response.status, location: location === null ? undefined : new URL(location), body: location === null ? await response.json() : undefined };
}

async function token(sandbox: Sandbox, form: Record<string, string | undefined>) {
  const body = new URLSearchParams();
  const all = { grant_type: "authorization_code", client_id: sandbox.app.clientId, client_secret: sandbox.app.clientSecret, redirect_uri: REDIRECT_URI, ...form };
  for (const [key, value] of Object.entries(all)) if (value !== undefined) body.set(key, value);
  const response = await fetch(`${sandbox.url}/oauth/v1/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("OAuth authorization-code grant", () => {
  it("installs on the chosen portal: 302 with code and state, a PKCE-bound single-use code, working tokens", async () => {
    const sandbox = await setup();
    const portal = sandbox.createPortal({ authType: "oauth", tier: "professional" });
    const { verifier, challenge } = pkce();
    const redirect = await authorize(sandbox, { portalId: String(portal.portalId), code_challenge: challenge, code_challenge_method: "S256" });
    expect(redirect.status).toBe(302);
    expect(`${redirect.location?.origin}${redirect.location?.pathname}`).toBe(REDIRECT_URI);
    expect(redirect.location?.searchParams.get("state")).toBe("opaque-state");
    const code = redirect.location?.searchParams.get("code") ?? "";

    const granted = await token(sandbox, { code, code_verifier: verifier });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ token_type: "bearer", refresh_token: portal.refreshToken, expires_in: 1800 });
    const accessToken = granted.body["access_token"] as string;
    const client = sdkClient(sandbox, accessToken);
    expect((await client.crm.contacts.basicApi.getPage()).results).toEqual([]);
    expect(await client.oauth.accessTokensApi.get(accessToken)).toMatchObject({ hubId: portal.portalId });

    const replayed = await token(sandbox, { code, code_verifier: verifier });
    expect(replayed.status).toBe(400);
    expect(replayed.body).toMatchObject({ status: "BAD_AUTH_CODE", error: "invalid_grant" });
  });

  it("works through the SDK's tokensApi without PKCE; the refresh token it returns refreshes", async () => {
    const sandbox = await setup();
    const redirect = await authorize(sandbox);
    const code = redirect.location?.searchParams.get("code") ?? "";
    const sdk = sdkClient(sandbox);
    const tokens = await sdk.oauth.tokensApi.create("authorization_code", code, REDIRECT_URI, sandbox.app.clientId, sandbox.app.clientSecret);
    expect(tokens.expiresIn).toBe(1800);
    const refreshed = await sdk.oauth.tokensApi.create("refresh_token", undefined, undefined, sandbox.app.clientId, sandbox.app.clientSecret, tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
  });

  it("binds the code to the redirect URI and the verifier; a refused code is burnt", async () => {
    const sandbox = await setup();
    const { verifier, challenge } = pkce();
    const first = (await authorize(sandbox, { code_challenge: challenge, code_challenge_method: "S256" })).location?.searchParams.get("code") ?? "";
    const wrongUri = await token(sandbox, { code: first, code_verifier: verifier, redirect_uri: "http://evil.example.test/cb" });
    expect(wrongUri).toMatchObject({ status: 400, body: { status: "BAD_REDIRECT_URI", error: "invalid_grant" } });
    expect((await token(sandbox, { code: first, code_verifier: verifier })).body["status"]).toBe("BAD_AUTH_CODE");

    const second = (await authorize(sandbox, { code_challenge: challenge, code_challenge_method: "S256" })).location?.searchParams.get("code") ?? "";
    expect((await token(sandbox, { code: second, code_verifier: pkce().verifier })).body["status"]).toBe("BAD_CODE_VERIFIER");
    const third = (await authorize(sandbox, { code_challenge: challenge, code_challenge_method: "S256" })).location?.searchParams.get("code") ?? "";
    expect((await token(sandbox, { code: third })).body["status"]).toBe("BAD_CODE_VERIFIER");
    expect((await token(sandbox, { code: "not-a-code" })).body).toMatchObject({ status: "BAD_AUTH_CODE", message: "missing or unknown auth code" });
    expect((await token(sandbox, { code: undefined })).body["status"]).toBe("BAD_AUTH_CODE");
    expect((await token(sandbox, { code: third, client_secret: "wrong" })).body["status"]).toBe("BAD_CLIENT_SECRET");
  });

  it("expires codes", async () => {
    const sandbox = await setup({ authorizationCodeTtlSeconds: 0.05 });
    const code = (await authorize(sandbox)).location?.searchParams.get("code") ?? "";
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await token(sandbox, { code })).body).toMatchObject({ status: "BAD_AUTH_CODE", error: "invalid_grant" });
  });

  it("picks the first OAuth portal, else creates one; refuses a private-app portal", async () => {
    const sandbox = await setup();
    sandbox.createPortal({ authType: "private_app" });
    const created = await token(sandbox, { code: (await authorize(sandbox)).location?.searchParams.get("code") ?? "" });
    const info = await sdkClient(sandbox).oauth.accessTokensApi.get(created.body["access_token"] as string);
    const oauthPortals = sandbox.portals().filter((p) => p.authType === "oauth");
    expect(oauthPortals.map((p) => p.portalId)).toEqual([info.hubId]);
    const again = await token(sandbox, { code: (await authorize(sandbox)).location?.searchParams.get("code") ?? "" });
    expect((await sdkClient(sandbox).oauth.accessTokensApi.get(again.body["access_token"] as string)).hubId).toBe(info.hubId);

    const privateApp = sandbox.portals().find((p) => p.authType === "private_app");
    const refused = await authorize(sandbox, { portalId: String(privateApp?.portalId) });
    expect(refused).toMatchObject({ status: 400, body: { status: "BAD_PORTAL" } });
  });

  it("redirects with error=access_denied when the user declines (query or admin consent)", async () => {
    const sandbox = await setup();
    const declined = await authorize(sandbox, { decision: "deny" });
    expect(declined.status).toBe(302);
    expect(declined.location?.searchParams.get("error")).toBe("access_denied");
    expect(declined.location?.searchParams.get("state")).toBe("opaque-state");
    expect(declined.location?.searchParams.has("code")).toBe(false);

    expect((await admin(sandbox, "POST", "/__sandbox/oauth/consent", { decision: "deny" })).body).toEqual({ decision: "deny" });
    expect((await authorize(sandbox)).location?.searchParams.get("error")).toBe("access_denied");
    const portal = sandbox.createPortal({ authType: "oauth" });
    await admin(sandbox, "POST", "/__sandbox/oauth/consent", { decision: "approve", portalId: portal.portalId });
    const code = (await authorize(sandbox)).location?.searchParams.get("code") ?? "";
    const granted = await token(sandbox, { code });
    expect((await sdkClient(sandbox).oauth.accessTokensApi.get(granted.body["access_token"] as string)).hubId).toBe(portal.portalId);
  });

  it("shows an error instead of redirecting for an unknown client, a bad redirect URI, unknown scopes or a plain challenge", async () => {
    const sandbox = await setup();
    expect(await authorize(sandbox, { client_id: "someone-else" })).toMatchObject({ status: 400, location: undefined, body: { status: "BAD_CLIENT_ID" } });
    expect(await authorize(sandbox, { redirect_uri: "javascript:alert(1)" })).toMatchObject({ status: 400, body: { status: "BAD_REDIRECT_URI" } });
    expect(await authorize(sandbox, { redirect_uri: undefined })).toMatchObject({ status: 400, body: { status: "BAD_REDIRECT_URI" } });
    expect(await authorize(sandbox, { scope: "crm.objects.deals.read" })).toMatchObject({ status: 400, body: { status: "BAD_SCOPES", message: "unknown scopes: crm.objects.deals.read" } });
    expect(await authorize(sandbox, { scope: undefined })).toMatchObject({ status: 400, body: { status: "BAD_SCOPES" } });
    expect(await authorize(sandbox, { code_challenge: "abc", code_challenge_method: "plain" })).toMatchObject({ status: 400, body: { status: "BAD_CODE_CHALLENGE" } });
  });
});
