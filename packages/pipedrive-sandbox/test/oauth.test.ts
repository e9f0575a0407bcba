import { v2 } from "pipedrive";
import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../src/index.js";
import { admin, raw, sandboxWithAccount, sdk, sdkError } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const REDIRECT = "https://app.example.com/api/v1/oauth/pipedrive/callback";

async function authorizeCode(sandbox: Sandbox, accountId: number, scope?: string): Promise<string> {
  const url = new URL(`${sandbox.url}/oauth/authorize`);
  url.searchParams.set("client_id", sandbox.app.clientId);
  url.searchParams.set("redirect_uri", REDIRECT);
  url.searchParams.set("state", "s1");
  url.searchParams.set("account_id", String(accountId));
  if (scope) url.searchParams.set("scope", scope);
  const response = await fetch(url, { redirect: "manual" });
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get("location") as string);
  expect(location.searchParams.get("state")).toBe("s1");
  return location.searchParams.get("code") as string;
}

function oauthConfig(sandbox: Sandbox, clientSecret = sandbox.app.clientSecret) {
  return new v2.OAuth2Configuration({ clientId: sandbox.app.clientId, clientSecret, redirectUri: REDIRECT, host: sandbox.url });
}

describe("OAuth through the SDK's OAuth2Configuration", () => {
  it("exchanges a code (Basic client auth), answers api_domain, and the SDK calls the API with the Bearer token", async () => {
    const { sandbox, account } = await sandboxWithAccount();
    cleanups.push(() => sandbox.close());
    const oauth = oauthConfig(sandbox);
    const token = await oauth.authorize(await authorizeCode(sandbox, account.accountId));
    expect(token).toMatchObject({ token_type: "Bearer", expires_in: 3599, api_domain: sandbox.url });
    expect(oauth.basePath).toBe(`${sandbox.url}/api/v2`);
    // the SDK README's wiring: the OAuth configuration supplies the token (refreshing it when due) and the base path
    const persons = new v2.PersonsApi(new v2.Configuration({ accessToken: oauth.getAccessToken, basePath: oauth.basePath }));
    const created = await persons.addPerson({ AddPersonRequest: { name: "Via OAuth" } });
    expect(created.success).toBe(true);
    // OAuth burst limits differ from api tokens': growth OAuth 160
    const call = await raw(sandbox, "/api/v2/persons", { bearer: token.access_token });
    expect(call.headers.get("x-ratelimit-limit")).toBe("160");
    expect(call.headers.get("x-daily-requests-left")).toBeNull();
  });

  it("refreshes with the same refresh token; refuses wrong client credentials and a used code", async () => {
    const { sandbox, account } = await sandboxWithAccount();
    cleanups.push(() => sandbox.close());
    const oauth = oauthConfig(sandbox);
    const code = await authorizeCode(sandbox, account.accountId);
    const first = await oauth.authorize(code);
    const refreshed = await oauth.tokenRefresh();
    expect(refreshed.refresh_token).toBe(first.refresh_token);
    expect(refreshed.access_token).not.toBe(first.access_token);
    // the old access token still works until it expires; an expired one answers 401
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/revoke`, { credential: "access_tokens" });
    expect((await raw(sandbox, "/v1/users/me", { bearer: refreshed.access_token })).json).toMatchObject({ success: false, error: "Access token expired" });

    const wrong = oauthConfig(sandbox, "not-the-secret");
    expect(await sdkError(wrong.authorize(await authorizeCode(sandbox, account.accountId)))).toMatchObject({ error: "invalid_client" });
    expect(await sdkError(oauth.authorize(code))).toMatchObject({ error: "invalid_grant" });
  });

  it("expires a refresh token after 60 days unused; each use resets the 60 days", async () => {
    const { sandbox, account } = await sandboxWithAccount();
    cleanups.push(() => sandbox.close());
    const oauth = oauthConfig(sandbox);
    await oauth.authorize(await authorizeCode(sandbox, account.accountId));
    const day = 24 * 60 * 60 * 1000;
    sandbox.advanceClock(59 * day);
    await oauth.tokenRefresh();
    sandbox.advanceClock(59 * day);
    await oauth.tokenRefresh();
    sandbox.advanceClock(61 * day);
    expect(await sdkError(oauth.tokenRefresh())).toMatchObject({ error: "invalid_grant" });
  });

  it("revokes a refresh token through /oauth/revoke (the SDK's revokeToken)", async () => {
    const { sandbox, account } = await sandboxWithAccount();
    cleanups.push(() => sandbox.close());
    const oauth = oauthConfig(sandbox);
    await oauth.authorize(await authorizeCode(sandbox, account.accountId));
    await oauth.revokeToken("refresh_token");
    expect(await sdkError(oauth.tokenRefresh())).toMatchObject({ error: "invalid_grant" });
  });

  it("checks OAuth scopes: 403 Scope and URL mismatch without admin for webhooks", async () => {
    const { sandbox, account } = await sandboxWithAccount();
    cleanups.push(() => sandbox.close());
    const oauth = oauthConfig(sandbox);
    const token = await oauth.authorize(await authorizeCode(sandbox, account.accountId, "base contacts:full"));
    const apis = sdk(sandbox, { accessToken: token.access_token });
    expect(await sdkError(apis.webhooks.getWebhooks())).toMatchObject({ success: false, error: "Scope and URL mismatch" });
    expect((await apis.persons.getPersons({})).success).toBe(true);
  });
});
