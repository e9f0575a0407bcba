import { afterEach, describe, expect, it } from "vitest";
import { CrmReauthRequiredError, ProviderConnectError, type ClientContext, type ConnectedAccount, type ProviderTokens } from "@leadsync/core";
import { startSandbox, type Sandbox } from "@leadsync/pipedrive-sandbox";
import { pipedriveProvider, refreshDueAt, SCHEDULED_REFRESH_AFTER_MS } from "../src/index.js";
import { admin, envFor, RecordingLimiter, silentLogger } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const REDIRECT = "http://127.0.0.1:3000/api/v1/oauth/pipedrive/callback";

async function oauthConnect(sandbox: Sandbox, accountId: number, appScopes?: string): Promise<ConnectedAccount> {
  const oauth = pipedriveProvider.oauth;
  if (!oauth) throw new Error("no oauth support");
  const url = new URL(oauth.authorizeUrl({ state: "signed-state", redirectUri: REDIRECT, codeChallenge: "unused", env: envFor(sandbox) }));
  expect(url.pathname).toBe("/oauth/authorize");
  url.searchParams.set("account_id", String(accountId)); // the sandbox's consent screen: which company approves
  if (appScopes) url.searchParams.set("scope", appScopes); // Pipedrive takes scopes from the app's settings; the sandbox from here
  const redirect = await fetch(url, { redirect: "manual" });
  const location = new URL(redirect.headers.get("location") as string);
  expect(location.searchParams.get("state")).toBe("signed-state");
  return oauth.exchangeCode({ code: location.searchParams.get("code") as string, codeVerifier: "unused", redirectUri: REDIRECT, query: {}, env: envFor(sandbox) });
}

describe("OAuth", () => {
  it("connects through the code flow and refreshes once on a 401, then carries on", async () => {
    const sandbox = await startSandbox();
    cleanups.push(() => sandbox.close());
    const account = sandbox.createAccount({ plan: "growth" });
    const connected = await oauthConnect(sandbox, account.accountId);
    expect(connected).toMatchObject({ externalAccountId: String(account.accountId), authType: "oauth", state: { userId: String(account.userId), apiDomain: sandbox.url } });
    expect(connected.tokens.refreshToken).toBeDefined();
    expect(connected.tokens.expiresAt).toBeGreaterThan(Date.now());

    let tokens: ProviderTokens = connected.tokens;
    let refreshes = 0;
    const integration = { id: "int-oauth", externalAccountId: connected.externalAccountId, authType: connected.authType, tier: "growth", settings: {}, state: connected.state };
    const context: ClientContext = {
      integration,
      env: envFor(sandbox),
      getAccessToken: async (options) => {
        if (options?.forceRefresh) {
          refreshes++;
          tokens = await (pipedriveProvider.refreshTokens as NonNullable<typeof pipedriveProvider.refreshTokens>)(tokens, integration, envFor(sandbox));
        }
        return tokens.accessToken;
      },
      limiter: new RecordingLimiter(),
      logger: silentLogger,
      shared: { redis: null, keyPrefix: "test" },
    };
    const client = pipedriveProvider.createClient(context);
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/revoke`, { credential: "access_tokens" });
    const [created] = await client.createContacts([{ leadId: "l", email: "oauth@example.com", properties: { first_name: "O" } }]);
    expect(created).toMatchObject({ ok: true, created: true });
    expect(refreshes).toBe(1);
    expect(tokens.refreshToken).toBe(connected.tokens.refreshToken);

    // the refresh token revoked (app uninstalled): the next forced refresh asks for re-authorisation
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/revoke`, { credential: "access_tokens" });
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/revoke`, { credential: "refresh_tokens" });
    await expect(client.fetchContacts(["1"], ["email"])).rejects.toBeInstanceOf(CrmReauthRequiredError);
  });

  it("an app without the admin scope cannot create the marker field: connect says what an admin must add", async () => {
    const sandbox = await startSandbox();
    cleanups.push(() => sandbox.close());
    const account = sandbox.createAccount();
    const refused = await oauthConnect(sandbox, account.accountId, "base contacts:full search:read").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderConnectError);
    expect(refused).toMatchObject({ code: "marker_field_missing", status: 422 });
    expect(String((refused as Error).message)).toContain("Lead Source System");
    // once an admin added the field, the same app connects and finds its key
    await fetch(`${sandbox.url}/v1/personFields`, { method: "POST", headers: { "content-type": "application/json", "x-api-token": account.apiToken }, body: JSON.stringify({ name: "Lead Source System", field_type: "varchar" }) });
    const connected = await oauthConnect(sandbox, account.accountId, "base contacts:full search:read");
    expect(connected.state["markerField"]).toMatch(/^[0-9a-f]{40}$/);
  });

  it("a refresh token unused for 60 days is refused (CrmReauthRequiredError); refreshDueAt schedules one well before", async () => {
    const sandbox = await startSandbox();
    cleanups.push(() => sandbox.close());
    const account = sandbox.createAccount();
    const connected = await oauthConnect(sandbox, account.accountId);
    const integration = { id: "i", externalAccountId: connected.externalAccountId, authType: connected.authType, tier: "growth", settings: {}, state: connected.state };
    const refresh = pipedriveProvider.refreshTokens as NonNullable<typeof pipedriveProvider.refreshTokens>;
    const due = refreshDueAt(connected.tokens);
    expect(due - Date.now()).toBeLessThanOrEqual(SCHEDULED_REFRESH_AFTER_MS);
    expect(due - Date.now()).toBeGreaterThan(SCHEDULED_REFRESH_AFTER_MS - 5 * 60_000);
    sandbox.advanceClock(due - Date.now());
    const refreshed = await refresh(connected.tokens, integration, envFor(sandbox));
    expect(refreshed.accessToken).not.toBe(connected.tokens.accessToken);
    sandbox.advanceClock(61 * 24 * 60 * 60 * 1000);
    await expect(refresh(refreshed, integration, envFor(sandbox))).rejects.toBeInstanceOf(CrmReauthRequiredError);
    expect(refreshDueAt({ accessToken: "api-token" })).toBe(Number.POSITIVE_INFINITY);
  });
});
