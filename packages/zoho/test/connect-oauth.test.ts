import { createHash } from "node:crypto";
import { CrmReauthRequiredError, ProviderConnectError } from "@leadsync/core";
import { startSandbox, type Sandbox } from "@leadsync/zoho-sandbox";
import { afterEach, describe, expect, it } from "vitest";
import { zohoProvider, zohoBudget } from "../src/index.js";
import { admin, connectedAccount, envFor } from "./helpers.js";

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("connect", () => {
  it("connects with a refresh token: org id, current user, the marker field created and its generated api_name read back", async () => {
    sandbox = await startSandbox();
    const account = sandbox.createAccount({ edition: "professional", users: 12 });
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { fieldApiNameSuffix: "_0" });
    expect(zohoProvider.connectBody.safeParse(account.connect).success).toBe(true);
    const connected = await zohoProvider.connect(account.connect, envFor(sandbox));
    expect(connected.externalAccountId).toBe(account.accountId);
    expect(connected.authType).toBe("oauth");
    expect(connected.tier).toBe("professional");
    expect(connected.tokens.refreshToken).toBe(account.connect.refreshToken);
    expect(connected.tokens.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
    expect(connected.state).toMatchObject({ apiDomain: sandbox.apiDomain, accountsUrl: sandbox.accountsUrl, userId: account.apiUser.id, markerField: "Lead_Source_System_0", edition: "professional", users: 12 });

    // connecting again finds the field by its label instead of creating another
    const again = await zohoProvider.connect(account.connect, envFor(sandbox));
    expect(again.state["markerField"]).toBe("Lead_Source_System_0");
    expect(zohoBudget("professional", 12)).toEqual({ creditsPerDay: 56_000, windowMs: 86_400_000, concurrency: 15, heavyConcurrency: 10 });
  });

  it("states the org's budget as a rate policy: credits by edition and users, concurrency, operator overrides", () => {
    const integration = { id: "i", externalAccountId: "1", authType: "oauth" as const, tier: "enterprise", settings: {}, state: { users: 20 } };
    const policy = (zohoProvider.limitPolicy as NonNullable<typeof zohoProvider.limitPolicy>)(integration);
    expect(policy.limits).toEqual([{ name: "credits", kind: "rolling", limit: 70_000, windowMs: 86_400_000 }]);
    expect(policy.concurrency?.maxConcurrent).toBe(20);
    expect(policy.classOf?.("leads search")).toBe("heavy");
    expect(policy.classOf?.("leads read")).toBeUndefined();
    const overridden = (zohoProvider.limitPolicy as NonNullable<typeof zohoProvider.limitPolicy>)({ ...integration, tier: "unknown", settings: { rateLimit: { creditsPerDay: 1000, concurrency: 2 } }, state: { edition: "free" } });
    expect(overridden.limits[0]?.limit).toBe(1000);
    expect(overridden.concurrency?.maxConcurrent).toBe(2);
  });

  it("says what an admin must add when the token may not create fields; refuses a revoked refresh token", async () => {
    sandbox = await startSandbox();
    const account = sandbox.createAccount({ fieldsPermission: false });
    const refused = await zohoProvider.connect(account.connect, envFor(sandbox)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderConnectError);
    expect(refused).toMatchObject({ code: "marker_field_missing", status: 409, details: { module: "Leads", fieldLabel: "Lead Source System" } });
    expect((refused as Error).message).toContain('"Lead Source System"');

    const other = sandbox.createAccount();
    await admin(sandbox, "POST", `/__sandbox/accounts/${other.accountId}/revoke-refresh-tokens`);
    await expect(zohoProvider.connect(other.connect, envFor(sandbox))).rejects.toMatchObject({ code: "token_rejected" });
  });

  it("connects through OAuth: the callback's accounts-server is used, a foreign one refused", async () => {
    sandbox = await startSandbox({ location: "eu" });
    const account = sandbox.createAccount();
    const env = envFor(sandbox);
    const oauth = zohoProvider.oauth as NonNullable<typeof zohoProvider.oauth>;
    const verifier = "a".repeat(64);
    const authorizeUrl = oauth.authorizeUrl({ state: "st", redirectUri: "http://127.0.0.1:9/api/v1/oauth/zoho/callback", codeChallenge: createHash("sha256").update(verifier).digest("base64url"), env });
    expect(authorizeUrl.startsWith(`${sandbox.accountsUrl}/oauth/v2/auth?`)).toBe(true);
    const redirect = await fetch(authorizeUrl, { redirect: "manual" });
    const callback = new URL(redirect.headers.get("location") ?? "");
    const query = Object.fromEntries(callback.searchParams);
    expect(query).toMatchObject({ state: "st", location: "eu", "accounts-server": sandbox.accountsUrl });

    const forged = await oauth
      .exchangeCode({ code: query["code"] ?? "", codeVerifier: verifier, redirectUri: "http://127.0.0.1:9/api/v1/oauth/zoho/callback", query: { ...query, "accounts-server": "https://evil.example" }, env })
      .catch((e: unknown) => e);
    expect(forged).toMatchObject({ code: "account_mismatch", status: 400 });

    const connected = await oauth.exchangeCode({ code: query["code"] ?? "", codeVerifier: verifier, redirectUri: "http://127.0.0.1:9/api/v1/oauth/zoho/callback", query, env });
    expect(connected.externalAccountId).toBe(account.accountId);
    expect(connected.tokens.refreshToken).toMatch(/^1000\./);
    expect(connected.state["apiDomain"]).toBe(sandbox.apiDomain);
    const replay = await oauth.exchangeCode({ code: query["code"] ?? "", codeVerifier: verifier, redirectUri: "http://127.0.0.1:9/api/v1/oauth/zoho/callback", query, env }).catch((e: unknown) => e);
    expect(replay).toMatchObject({ code: "token_rejected" });
  });

  it("refreshes tokens; a refused refresh token needs re-consent", async () => {
    const setup = await connectedAccount();
    sandbox = setup.sandbox;
    const refresh = zohoProvider.refreshTokens as NonNullable<typeof zohoProvider.refreshTokens>;
    const fresh = await refresh(setup.connected.tokens, setup.integration, envFor(sandbox));
    expect(fresh.accessToken).not.toBe(setup.connected.tokens.accessToken);
    expect(fresh.refreshToken).toBe(setup.connected.tokens.refreshToken);
    await admin(sandbox, "POST", `/__sandbox/accounts/${setup.account.accountId}/revoke-refresh-tokens`);
    await expect(refresh(setup.connected.tokens, setup.integration, envFor(sandbox))).rejects.toBeInstanceOf(CrmReauthRequiredError);
  });
});
