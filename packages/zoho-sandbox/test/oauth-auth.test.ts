import { createHash } from "node:crypto";
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/index.js";
import { admin, apiClient, mintToken, sandboxWithAccount, token } from "./helpers.js";

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("OAuth (accounts server)", () => {
  it("authorizes with a redirect carrying code, location and accounts-server, and exchanges the code (PKCE)", async () => {
    sandbox = await startSandbox({ location: "eu" });
    const account = sandbox.createAccount();
    const verifier = "v".repeat(50);
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const authorize = new URL(`${sandbox.accountsUrl}/oauth/v2/auth`);
    const params = { client_id: sandbox.app.clientId, response_type: "code", redirect_uri: "http://127.0.0.1:9/cb", scope: "ZohoCRM.modules.ALL", state: "s1", access_type: "offline", code_challenge: challenge, code_challenge_method: "S256" };
    for (const [k, v] of Object.entries(params)) authorize.searchParams.set(k, v);
    const redirect = await fetch(authorize, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get("location") ?? "");
    expect(location.origin + location.pathname).toBe("http://127.0.0.1:9/cb");
    expect(location.searchParams.get("state")).toBe("s1");
    expect(location.searchParams.get("location")).toBe("eu");
    expect(location.searchParams.get("accounts-server")).toBe(sandbox.accountsUrl);
    const code = location.searchParams.get("code") ?? "";

    const wrongVerifier = await token(sandbox, { grant_type: "authorization_code", code, redirect_uri: "http://127.0.0.1:9/cb", code_verifier: "x".repeat(50) });
    expect(wrongVerifier.body).toEqual({ error: "invalid_code" }); // and the code is spent

    const again = await fetch(authorize, { redirect: "manual" });
    const code2 = new URL(again.headers.get("location") ?? "").searchParams.get("code") ?? "";
    const exchanged = await token(sandbox, { grant_type: "authorization_code", code: code2, redirect_uri: "http://127.0.0.1:9/cb", code_verifier: verifier });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({ api_domain: sandbox.apiDomain, token_type: "Bearer", expires_in: 3600 });
    expect(exchanged.body.access_token).toMatch(/^1000\./);
    expect(exchanged.body.refresh_token).toMatch(/^1000\./);
    expect(sandbox.apiDomain).not.toBe(sandbox.accountsUrl);

    const org = await apiClient(sandbox, exchanged.body.access_token)("GET", "/crm/v8/org");
    expect(org.body.org[0].id).toBe(account.accountId);
    const replay = await token(sandbox, { grant_type: "authorization_code", code: code2, redirect_uri: "http://127.0.0.1:9/cb", code_verifier: verifier });
    expect(replay.body).toEqual({ error: "invalid_code" });
  });

  it("refreshes with Zoho's reply, refuses the 11th mint in 10 minutes and a revoked refresh token", async () => {
    sandbox = await startSandbox();
    const account = sandbox.createAccount();
    const first = await token(sandbox, { grant_type: "refresh_token", refresh_token: account.connect.refreshToken });
    expect(first.body).toMatchObject({ api_domain: sandbox.apiDomain, token_type: "Bearer", expires_in: 3600 });
    expect(first.body.refresh_token).toBeUndefined();
    for (let i = 0; i < 9; i++) expect((await token(sandbox, { grant_type: "refresh_token", refresh_token: account.connect.refreshToken })).status).toBe(200);
    const blocked = await token(sandbox, { grant_type: "refresh_token", refresh_token: account.connect.refreshToken });
    expect(blocked.status).toBe(400);
    expect(blocked.body).toMatchObject({ error: "Access Denied", status: "failure" });

    expect((await token(sandbox, { grant_type: "refresh_token", refresh_token: "1000.nope" })).body).toEqual({ error: "invalid_code" });
    expect((await token(sandbox, { grant_type: "refresh_token", refresh_token: account.connect.refreshToken, client_secret: "wrong" })).body).toEqual({ error: "invalid_client" });

    expect((await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/revoke-refresh-tokens`)).status).toBe(204);
    expect((await token(sandbox, { grant_type: "refresh_token", refresh_token: account.connect.refreshToken })).body).toEqual({ error: "invalid_code" });
    const api = apiClient(sandbox, first.body.access_token);
    expect((await api("GET", "/crm/v8/org")).body).toEqual({ code: "INVALID_TOKEN", details: {}, message: "invalid oauth token", status: "error" });
    const renewed = (await admin(sandbox, "GET", "/__sandbox/accounts")).body[0];
    expect(renewed.connect.refreshToken).not.toBe(account.connect.refreshToken);
  });

  it("takes token parameters as multipart/form-data (as Zoho's Node SDK sends them) and JSON bodies without a content type", async () => {
    sandbox = await startSandbox();
    const account = sandbox.createAccount();
    const form = new FormData();
    for (const [k, v] of Object.entries({ client_id: sandbox.app.clientId, client_secret: sandbox.app.clientSecret, grant_type: "refresh_token", refresh_token: account.connect.refreshToken })) form.append(k, v);
    const minted = (await (await fetch(`${sandbox.accountsUrl}/oauth/v2/token`, { method: "POST", body: form })).json()) as { access_token: string };
    expect(minted.access_token).toMatch(/^1000\./);
    const target = new URL(`${sandbox.apiDomain}/crm/v8/Leads`);
    const payload = JSON.stringify({ data: [{ Last_Name: "L", Company: "C", Email: "u@example.com" }] });
    const untyped = await new Promise<{ status: number }>((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { authorization: `Zoho-oauthtoken ${minted.access_token}`, "content-length": Buffer.byteLength(payload) } }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.on("error", reject);
      req.end(payload);
    });
    expect(untyped.status).toBe(201);
  });

  it("keeps at most 30 live access tokens per refresh token: the 31st deletes the oldest", async () => {
    sandbox = await startSandbox({ tokenMintLimit: { count: 100, windowMs: 600_000 } });
    const account = sandbox.createAccount();
    const tokens: string[] = [];
    for (let i = 0; i < 31; i++) tokens.push(await mintToken(sandbox, account));
    expect((await apiClient(sandbox, tokens[0] ?? "")("GET", "/crm/v8/org")).body.code).toBe("INVALID_TOKEN");
    expect((await apiClient(sandbox, tokens[1] ?? "")("GET", "/crm/v8/org")).status).toBe(200);
  });

  it("answers 401 INVALID_TOKEN for an expired token, AUTHENTICATION_FAILURE without one, 404 for CRM paths on the accounts server", async () => {
    const setup = await sandboxWithAccount();
    sandbox = setup.sandbox;
    expect((await setup.api("GET", "/crm/v8/users?type=CurrentUser")).status).toBe(200);
    await admin(sandbox, "POST", `/__sandbox/accounts/${setup.account.accountId}/expire-access-tokens`);
    const expired = await setup.api("GET", "/crm/v8/users?type=CurrentUser");
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ code: "INVALID_TOKEN", details: {}, message: "invalid oauth token", status: "error" });

    const bare = await fetch(`${sandbox.apiDomain}/crm/v8/org`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { code: string }).code).toBe("AUTHENTICATION_FAILURE");

    const fresh = await mintToken(sandbox, setup.account);
    const wrongHost = await fetch(`${sandbox.accountsUrl}/crm/v8/org`, { headers: { authorization: `Zoho-oauthtoken ${fresh}` } });
    expect(wrongHost.status).toBe(404);
    expect(((await wrongHost.json()) as { code: string }).code).toBe("INVALID_URL_PATTERN");
    const bearer = await fetch(`${sandbox.apiDomain}/crm/v8/org`, { headers: { authorization: `Bearer ${fresh}` } });
    expect(bearer.status).toBe(401);
  });

  it("expires access tokens after accessTokenTtlSeconds", async () => {
    const setup = await sandboxWithAccount({ accessTokenTtlSeconds: 1 });
    sandbox = setup.sandbox;
    expect((await setup.api("GET", "/crm/v8/org")).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await setup.api("GET", "/crm/v8/org")).body.code).toBe("INVALID_TOKEN");
  });
});
