import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderConnectError } from "@leadsync/core";
import { startSalesforceSandbox, type SalesforceSandbox } from "@leadsync/salesforce-sandbox";
import { salesforceProvider } from "../src/index.js";
import { admin, envFor } from "./sandbox-helpers.js";

let sandbox: SalesforceSandbox;
beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ grpcPort: false });
});
afterAll(async () => {
  await sandbox.close();
});

function body(connect: unknown) {
  const parsed = salesforceProvider.connectBody.safeParse(connect);
  if (!parsed.success) throw new Error("connect body rejected");
  return parsed.data;
}

describe("connect", () => {
  it("checks the token, names the org and user, and creates the marker field where the user may", async () => {
    const account = sandbox.createAccount();
    const connected = await salesforceProvider.connect(body(account.connect), envFor(sandbox));
    expect(connected.externalAccountId).toBe(account.accountId);
    expect(connected.externalAccountId).toHaveLength(18);
    expect(connected.state).toMatchObject({ instanceUrl: sandbox.url, markerField: "Lead_Source_System__c", dailyApiRequests: 15_000 });
    // the version root's identity URL names the integration user
    const settings = await admin<{ settings: { users: { integration: string } } }>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}`);
    expect(connected.state["userId"]).toBe(settings.body.settings.users.integration);
    // the emulator answers no Organization query: the allowance (15,000) says Developer Edition
    expect(connected.tier).toBe("developer");
    const policy = salesforceProvider.limitPolicy?.({ tier: connected.tier as string, settings: {}, state: connected.state, id: "i", externalAccountId: "x", authType: "oauth" });
    expect(policy).toMatchObject({ limits: [{ kind: "rolling", name: "daily", limit: 15_000 }], concurrency: { maxConcurrent: 5 } });
    expect(salesforceProvider.accountIdOf?.(body(account.connect))).toBe(account.accountId);
    expect(connected.warnings?.some((w) => /Created the Lead field/.test(w))).toBe(true);
    const again = await salesforceProvider.connect(body(account.connect), envFor(sandbox));
    expect(again.warnings?.some((w) => /Created the Lead field/.test(w)) ?? false).toBe(false);
  });

  it("says precisely what an admin must add when the user may not create the field", async () => {
    const account = sandbox.createAccount();
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { customizeApplication: false });
    const error = await salesforceProvider.connect(body(account.connect), envFor(sandbox)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderConnectError);
    expect(error).toMatchObject({ code: "marker_field_missing", status: 422 });
    const message = (error as Error).message;
    for (const part of ["Lead_Source_System__c", "Text", "255", "Lead Source System", "Visible", "Customize Application"]) expect(message).toContain(part);
  });

  it("refuses an existing marker field that cannot hold the marker", async () => {
    const account = sandbox.createAccount();
    const created = await fetch(`${account.connect.instanceUrl}/services/data/v62.0/tooling/sobjects/CustomField`, {
      method: "POST",
      headers: { authorization: `Bearer ${account.connect.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ FullName: "Lead.Lead_Source_System__c", Metadata: { label: "Lead Source System", type: "Checkbox" } }),
    });
    expect(created.status).toBe(201);
    const error = await salesforceProvider.connect(body(account.connect), envFor(sandbox)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "marker_field_unusable", status: 422 });
    expect((error as Error).message).toMatch(/must be Text or Picklist/);
  });

  it("refuses a token Salesforce refuses, and a token of another org", async () => {
    const account = sandbox.createAccount();
    const bad = await salesforceProvider.connect(body({ ...account.connect, accessToken: "00Dxx!bogus", refreshToken: "" }), envFor(sandbox)).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "token_rejected" });
    const other = sandbox.createAccount();
    const mismatch = await salesforceProvider.connect(body({ ...account.connect, orgId: other.accountId }), envFor(sandbox)).catch((e: unknown) => e);
    expect(mismatch).toMatchObject({ code: "account_mismatch" });
  });

  it("runs the OAuth web-server flow with PKCE against the login URL", async () => {
    const env = envFor(sandbox);
    const { createHash, randomBytes } = await import("node:crypto");
    const verifier = randomBytes(48).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const redirectUri = "http://127.0.0.1:9/api/v1/oauth/salesforce/callback";
    const url = new URL(salesforceProvider.oauth?.authorizeUrl({ state: "signed-state", redirectUri, codeChallenge: challenge, env }) as string);
    expect(url.origin + url.pathname).toBe(`${sandbox.url}/services/oauth2/authorize`);
    expect(url.searchParams.get("code_challenge")).toBe(challenge);
    const redirect = await fetch(url, { redirect: "manual" });
    const callback = new URL(redirect.headers.get("location") as string);
    expect(callback.searchParams.get("state")).toBe("signed-state");
    const code = callback.searchParams.get("code") as string;
    const connected = await salesforceProvider.oauth?.exchangeCode({ code, codeVerifier: verifier, redirectUri, query: {}, env });
    expect(connected).toMatchObject({ authType: "oauth", state: { instanceUrl: sandbox.url } });
    expect(connected?.tokens.refreshToken).toBeTruthy();
    // the token reply's identity URL names the integration user
    expect(connected?.state["userId"]).toMatch(/^005/);

    const second = new URL((await fetch(url, { redirect: "manual" })).headers.get("location") as string).searchParams.get("code") as string;
    const wrong = await salesforceProvider.oauth?.exchangeCode({ code: second, codeVerifier: "wrong-verifier", redirectUri, query: {}, env }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: "code_rejected" });
  });
});
