import { createHash, randomBytes } from "node:crypto";
import { Connection } from "jsforce";
import { afterEach, describe, expect, it } from "vitest";
import type { SalesforceSandbox } from "../src/index.js";
import { admin, API_VERSION, connection, lead, oauth2, rejection, sandboxWithAccount } from "./helpers.js";

let sandbox: SalesforceSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/** Follows the authorize redirect the way a browser would, returning the callback's query. */
async function authorize(url: string): Promise<URLSearchParams> {
  const response = await fetch(url, { redirect: "manual" });
  expect(response.status).toBe(302);
  return new URL(response.headers.get("location") as string).searchParams;
}

describe("OAuth web-server flow", () => {
  it("authorizes with PKCE through jsforce, and rejects a wrong verifier", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const oauth = oauth2(started.sandbox, "http://127.0.0.1:9/callback", true);
    const callback = await authorize(oauth.getAuthorizationUrl({ state: "st-1", login_hint: started.account.accountId } as never));
    expect(callback.get("state")).toBe("st-1");
    const conn = new Connection({ oauth2: oauth, version: API_VERSION });
    const user = await conn.authorize(callback.get("code") as string);
    expect(user.organizationId).toBe(started.account.accountId);
    expect(conn.instanceUrl).toBe(started.sandbox.url);
    expect(conn.refreshToken).toMatch(/^5Aep861/);
    expect(await conn.sobject("Lead").create(lead(1))).toMatchObject({ success: true });

    // the code is single-use; a raw token request with a wrong verifier fails the PKCE check
    const challenge = createHash("sha256").update("right-verifier").digest("base64url");
    const authorizeUrl = `${started.sandbox.url}/services/oauth2/authorize?response_type=code&client_id=${encodeURIComponent(started.sandbox.state.options.clientId)}&redirect_uri=${encodeURIComponent("http://127.0.0.1:9/cb")}&code_challenge=${challenge}&code_challenge_method=S256`;
    const code = (await authorize(authorizeUrl)).get("code") as string;
    const token = await fetch(`${started.sandbox.url}/services/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code, client_id: started.sandbox.state.options.clientId, redirect_uri: "http://127.0.0.1:9/cb", code_verifier: randomBytes(8).toString("hex") }),
    });
    expect(token.status).toBe(400);
    expect(await token.json()).toEqual({ error: "invalid_grant", error_description: "invalid code verifier" });
  });

  it("answers the token shape without expires_in", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const response = await fetch(`${started.sandbox.url}/services/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: started.account.connect.refreshToken, client_id: started.sandbox.state.options.clientId, client_secret: started.sandbox.state.options.clientSecret }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["access_token", "id", "instance_url", "issued_at", "scope", "signature", "token_type"]);
    const idUrl = `${started.sandbox.url}/id/${started.account.accountId}/${started.sandbox.state.orgs.get(started.account.accountId)?.apiUserId}`;
    expect(body).toMatchObject({ token_type: "Bearer", instance_url: started.sandbox.url, id: idUrl });
    // the version root names the identity too, and the identity URL answers who the session is
    expect(await started.conn.request("/services/data/v59.0")).toMatchObject({ identity: idUrl });
    expect(await started.conn.request(idUrl)).toMatchObject({ organization_id: started.account.accountId, user_id: started.sandbox.state.orgs.get(started.account.accountId)?.apiUserId });
  });
});

describe("refresh-token rotation and revocation", () => {
  it("rotates refresh tokens when configured: the old one then fails with invalid_grant", async () => {
    const started = await sandboxWithAccount({ refreshTokenRotation: true });
    sandbox = started.sandbox;
    const oauth = oauth2(started.sandbox);
    const first = await oauth.refreshToken(started.account.connect.refreshToken);
    expect(first.refresh_token).toMatch(/^5Aep861/);
    expect(first.refresh_token).not.toBe(started.account.connect.refreshToken);
    const reused = await rejection(oauth.refreshToken(started.account.connect.refreshToken));
    expect(reused.name).toBe("invalid_grant");
    expect(await oauth.refreshToken(first.refresh_token as string)).toMatchObject({ token_type: "Bearer" });
  });

  it("revokes an access token, and a refresh token with its sessions", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const oauth = oauth2(started.sandbox);
    const fresh = await oauth.refreshToken(started.account.connect.refreshToken);
    await oauth.revokeToken(fresh.access_token);
    expect((await rejection(connection(started.sandbox, started.account, { accessToken: fresh.access_token }).sobject("Lead").create(lead(1)))).errorCode).toBe("INVALID_SESSION_ID");
    expect(await started.conn.sobject("Lead").create(lead(2))).toMatchObject({ success: true });
    await oauth.revokeToken(started.account.connect.refreshToken);
    expect((await rejection(started.conn.sobject("Lead").create(lead(3)))).errorCode).toBe("INVALID_SESSION_ID");
    expect((await rejection(oauth.refreshToken(started.account.connect.refreshToken))).name).toBe("invalid_grant");
  });
});

describe("sessions", () => {
  it("INVALID_SESSION_ID after expiry, then jsforce refreshes through the token endpoint and retries", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { account } = started;
    const conn = new Connection({
      oauth2: oauth2(started.sandbox),
      instanceUrl: account.connect.instanceUrl,
      accessToken: account.connect.accessToken,
      refreshToken: account.connect.refreshToken,
      version: API_VERSION,
    });
    const refreshed: string[] = [];
    conn.on("refresh", (token: string) => refreshed.push(token));

    await admin(started.sandbox, "POST", `/__sandbox/accounts/${account.accountId}/expire-access-token`);
    const raw = await fetch(`${started.sandbox.url}/services/data/v59.0/limits`, { headers: { authorization: `Bearer ${account.connect.accessToken}` } });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toEqual([{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }]);

    expect(await conn.sobject("Lead").create(lead(1))).toMatchObject({ success: true });
    expect(refreshed).toHaveLength(1);
    expect(conn.accessToken).not.toBe(account.connect.accessToken);

    // a revoked refresh token cannot refresh: invalid_grant
    await admin(started.sandbox, "POST", `/__sandbox/accounts/${account.accountId}/revoke-refresh-token`);
    const failed = await rejection(conn.oauth2.refreshToken(account.connect.refreshToken));
    expect(failed.name).toBe("invalid_grant");
    expect(failed.message).toBe("expired access/refresh token");
  });

  it("expires sessions after the configured session timeout", async () => {
    const started = await sandboxWithAccount({ sessionTimeoutMinutes: 0.002 });
    sandbox = started.sandbox;
    await new Promise((r) => setTimeout(r, 200));
    const error = await rejection(started.conn.sobject("Lead").create(lead(1)));
    expect(error.errorCode).toBe("INVALID_SESSION_ID");
  });
});

describe("API limits", () => {
  it("sends Sforce-Limit-Info on every call and REQUEST_LIMIT_EXCEEDED past the rolling 24 h allowance", async () => {
    const started = await sandboxWithAccount({ dailyApiRequests: 5 });
    sandbox = started.sandbox;
    const { conn, account } = started;
    await conn.sobject("Lead").create(lead(1));
    expect(conn.limitInfo).toEqual({ apiUsage: { used: 1, limit: 5 } });
    await conn.sobject("Lead").create(lead(2));
    expect(conn.limitInfo.apiUsage?.used).toBe(2);

    await admin(started.sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { apiUsage: 5 });
    const error = await rejection(conn.sobject("Lead").create(lead(3)));
    expect(error.errorCode).toBe("REQUEST_LIMIT_EXCEEDED");
    expect(error.message).toBe("TotalRequests Limit exceeded.");

    const versions = await fetch(`${started.sandbox.url}/services/data/`);
    expect(versions.headers.get("sforce-limit-info")).toBeNull();

    await admin(started.sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { dailyApiRequests: 100 });
    const limits = (await conn.limits()) as unknown as { DailyApiRequests: { Max: number; Remaining: number } };
    expect(limits.DailyApiRequests).toEqual({ Max: 100, Remaining: 94 });
    // error answers of the routes carry the header too
    const missing = await fetch(`${started.sandbox.url}/services/data/v59.0/sobjects/Lead/00Q5g0000000000AAA`, { headers: { authorization: `Bearer ${account.connect.accessToken}` } });
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(missing.headers.get("sforce-limit-info")).toBe("api-usage=7/100");

    const stats = await admin<{ calls: { total: number; byEndpoint: Record<string, number> }; throttled: number }>(started.sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`);
    expect(stats.body.throttled).toBe(1);
    expect(stats.body.calls.byEndpoint["POST /services/data/:version/sobjects/Lead"]).toBe(3);
  });

  it("caps concurrent long-running requests (ConcurrentRequests)", async () => {
    const started = await sandboxWithAccount({ longRunningMs: 100, concurrentLongRunningLimit: 1 });
    sandbox = started.sandbox;
    const { conn } = started;
    await admin(started.sandbox, "POST", "/__sandbox/faults", { kind: "latency", ms: 1500, count: 1 });
    const slow = conn.sobject("Lead").create(lead(1));
    await new Promise((r) => setTimeout(r, 400));
    const error = await rejection(conn.sobject("Lead").create(lead(2)));
    expect(error.errorCode).toBe("REQUEST_LIMIT_EXCEEDED");
    expect(error.message).toMatch(/^ConcurrentRequests/);
    expect(await slow).toMatchObject({ success: true });
    expect(await conn.sobject("Lead").create(lead(3))).toMatchObject({ success: true });
  });

  it("injects 5xx and limit errors", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    await admin(started.sandbox, "POST", "/__sandbox/faults", { kind: "error", status: 503, count: 1 });
    await admin(started.sandbox, "POST", "/__sandbox/faults", { kind: "request_limit", count: 1, accountId: started.account.accountId });
    expect((await rejection(started.conn.sobject("Lead").create(lead(1)))).errorCode).toBe("SERVER_UNAVAILABLE");
    expect((await rejection(started.conn.sobject("Lead").create(lead(1)))).errorCode).toBe("REQUEST_LIMIT_EXCEEDED");
    expect(await started.conn.sobject("Lead").create(lead(1))).toMatchObject({ success: true });
  });
});

describe("duplicate rules", () => {
  it("DUPLICATES_DETECTED names the match; Sforce-Duplicate-Rule-Header allowSave=true saves anyway", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn, account } = started;
    const first = (await conn.sobject("Lead").create(lead(1))) as { id: string };
    await admin(started.sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { duplicateRule: true });

    const error = await rejection(conn.sobject("Lead").create({ ...lead(2), Email: "ADA1@example.com" }));
    expect(error.errorCode).toBe("DUPLICATES_DETECTED");
    // jsforce puts the single error object of the array in `data`
    const body = error.data as { duplicateResult: { matchResults: Array<{ matchRecords: Array<{ record: { Id: string } }> }> } };
    expect(body.duplicateResult.matchResults[0]?.matchRecords[0]?.record.Id).toBe(first.id);

    const inCollection = await conn.sobject("Lead").create([lead(3), { ...lead(4), Email: "ada1@example.com" }]);
    expect(inCollection.map((r) => r.success)).toEqual([true, false]);
    expect((inCollection[1] as unknown as { errors: Array<{ statusCode: string }> }).errors[0]?.statusCode).toBe("DUPLICATES_DETECTED");

    const saved = await conn.sobject("Lead").create({ ...lead(5), Email: "ada1@example.com" }, { headers: { "Sforce-Duplicate-Rule-Header": "allowSave=true" } });
    expect(saved).toMatchObject({ success: true });
  });
});
