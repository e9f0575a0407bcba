import { decryptToken } from "@leadsync/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipedriveKit } from "../../../test/providers/kits/pipedrive.js";
import { salesforceKit } from "../../../test/providers/kits/salesforce.js";
import { zohoKit } from "../../../test/providers/kits/zoho.js";
import type { ProviderKit, RunningEmulator } from "../../../test/providers/kit.js";
import { startApi, type ApiHarness } from "./helpers.js";

/**
 * The provider-neutral OAuth connect flow (CONTRACT.md "OAuth connect") for every CRM beside HubSpot
 * (oauth-connect.test.ts covers HubSpot and the state checks in depth): the API's authorize URL leads to the
 * emulator's consent screen, which approves at once and redirects to our callback; the callback stores the integration
 * for the JWT's org, with its tokens encrypted; replaying the callback is refused.
 */

const API_URL = "http://api.example.test";

describe.each([salesforceKit, zohoKit, pipedriveKit] as ProviderKit[])("$name OAuth connect", (kit) => {
  let emulator: RunningEmulator;
  let api: ApiHarness;

  beforeAll(async () => {
    emulator = await kit.start({ webhookBaseUrl: API_URL });
    // The CRM account the person signs in to.
    const created = await fetch(`${emulator.url}/__sandbox/accounts`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(created.status).toBe(201);
    api = await startApi(emulator.env);
  }, 30_000);
  afterAll(async () => {
    await api?.close();
    await emulator?.close();
  });

  it("connects through the CRM's consent screen, stores encrypted tokens, and refuses a replayed callback", async () => {
    const orgId = `org-oauth-${kit.name}`;
    const started = await api.call(orgId, "GET", `/api/v1/crm-integration/connect/${kit.name}`);
    expect(started.statusCode).toBe(200);
    const authorizeUrl = new URL(started.json().data.authorizeUrl as string);
    expect(authorizeUrl.searchParams.get("state")).toBeTruthy();

    const consent = await fetch(authorizeUrl, { redirect: "manual" });
    expect(consent.status).toBe(302);
    const location = new URL(consent.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(`${API_URL}/api/v1/oauth/${kit.name}/callback`);
    expect(location.searchParams.get("code")).toBeTruthy();

    const callbackPath = `${location.pathname}${location.search}`;
    const stored = await api.app.inject({ method: "GET", url: callbackPath, headers: { accept: "application/json" } });
    expect(stored.statusCode, stored.body).toBe(201);
    const integration = stored.json().data;
    expect(integration).toMatchObject({ provider: kit.name, authType: "oauth", status: "active" });

    const row = await api.db.prisma.crmIntegration.findUniqueOrThrow({ where: { id: integration.id } });
    expect(row.orgId).toBe(orgId);
    const accessToken = decryptToken(row.accessTokenEnc ?? "", api.config.encryptionKey);
    expect(accessToken.length).toBeGreaterThan(0);
    expect(row.accessTokenEnc).not.toContain(accessToken);
    expect(decryptToken(row.refreshTokenEnc ?? "", api.config.encryptionKey).length).toBeGreaterThan(0);
    // Tokens never leave the API, and an expiry (the CRM's, or a scheduled refresh where it gives none) is set.
    expect(stored.body).not.toContain(accessToken);
    expect(row.accessTokenExpiresAt).not.toBeNull();

    const replayed = await api.app.inject({ method: "GET", url: callbackPath, headers: { accept: "application/json" } });
    expect(replayed.statusCode).toBe(400);
    expect(replayed.json().error.code).toBe("state_used");
    expect(await api.db.prisma.crmIntegration.count({ where: { orgId } })).toBe(1);
  });
});
