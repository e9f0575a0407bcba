import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookSecretFor } from "../../packages/providers/src/index.js";
import { channelIdFor } from "../../packages/zoho/src/index.js";
import { eventually, startProviderWorld, type ProviderWorld } from "./harness.js";
import { zohoKit } from "./kits/zoho.js";

/**
 * What Zoho (or someone pretending to be Zoho) can send that must not get in (issue 11, "Bad input"), and a token
 * Zoho stops accepting: one refresh for the whole integration, and when the refresh token itself is refused the
 * integration waits for re-consent without failing or dropping its work.
 */
describe("zoho: bad callbacks and refused tokens", () => {
  let w: ProviderWorld;
  const webhookUrl = () => `${w.config.apiUrl}/api/v1/webhooks/zoho?integration=${w.integrationId}&org=${w.accountId}`;
  const callback = (overrides: Record<string, unknown>) => ({
    server_time: Date.now(),
    query_params: { integration: w.integrationId, org: w.accountId },
    module: "Leads",
    resource_uri: "https://www.zohoapis.com/crm/v8/Leads",
    ids: ["4150868000000000001"],
    affected_fields: [],
    operation: "insert",
    channel_id: channelIdFor(w.integrationId),
    token: webhookSecretFor(w.config, w.integrationId),
    ...overrides,
  });
  const post = async (body: unknown) => {
    const response = await fetch(webhookUrl(), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as { success: boolean; error?: { code: string; message: string } } };
  };
  /** Every job the crm-changes queue ever got (completed ones are kept for 48 h). */
  const changesJobs = async () => {
    const counts = await w.queues.crmChanges.getJobCounts("waiting", "active", "completed", "failed", "delayed", "prioritized", "paused");
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  };

  /** Token requests with a refresh token: the process's real fetch, counted on the way through. */
  const realFetch = globalThis.fetch;
  let refreshes = 0;
  beforeAll(async () => {
    w = await startProviderWorld(zohoKit);
    globalThis.fetch = async (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (url.endsWith("/oauth/v2/token") && String(init?.body ?? "").includes("grant_type=refresh_token")) refreshes++;
      return realFetch(input, init);
    };
  }, 60_000);
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await w?.close();
  });

  it("a callback with a wrong token → 401 JSON error, nothing queued", async () => {
    const before = await changesJobs();
    const response = await post(callback({ token: "not-the-channel-token" }));
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ success: false, error: { code: "unauthorized", message: expect.any(String) } });
    expect(await changesJobs()).toBe(before);
    expect(w.logs.some((l) => l.msg === "webhook rejected" && l["reason"] === "bad_token")).toBe(true);
  });

  it("a callback with the right token but an unknown channel_id → 401 JSON error, nothing queued", async () => {
    const before = await changesJobs();
    const response = await post(callback({ channel_id: "1000000000000000042" }));
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ success: false, error: { code: "unauthorized", message: expect.any(String) } });
    // An integration id the channel does not belong to is refused the same way.
    const otherIntegration = await fetch(webhookUrl().replace(w.integrationId, "00000000-0000-4000-8000-000000000000"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(callback({})),
    });
    expect(otherIntegration.status).toBe(401);
    expect(await changesJobs()).toBe(before);
    expect(w.logs.some((l) => l.msg === "webhook rejected" && l["reason"] === "unknown_channel")).toBe(true);
  });

  it("the same callback with the right token and channel is queued (the refusals above were the checks, not the route)", async () => {
    const before = await changesJobs();
    const response = await post(callback({ server_time: Date.now() + 1 }));
    expect(response.status).toBe(200);
    expect(await changesJobs()).toBe(before + 1);
  });

  it("INVALID_TOKEN on calls made at once → exactly one refresh, and the calls succeed", async () => {
    const address = `token-${Date.now()}@example.com`;
    const person = `token-person-${Date.now()}@example.com`;
    await w.admin("POST", `/__sandbox/accounts/${w.accountId}/expire-access-tokens`);
    const refreshesBefore = refreshes;
    // An outbound insert and an inbound read, both with the access token Zoho now refuses.
    const [created] = await Promise.all([
      w.api("POST", "/api/v1/leads", { email: address, firstName: "To", lastName: "Ken", company: "Acme" }),
      w.createRecord({ email: person, firstName: "Per", lastName: "Son", company: "Beta" }),
    ]);
    expect(created.status).toBe(201);
    await eventually(async () => (await w.findRecords(address)).length === 1, "the platform lead in Zoho");
    await eventually(async () => (await w.prisma.lead.findFirst({ where: { orgId: w.orgId, email: person } })) ?? undefined, "the Zoho record's lead");
    expect(refreshes - refreshesBefore).toBe(1);
    expect(w.logs.filter((l) => l.msg === "Zoho refused the access token; refreshing once").length).toBeGreaterThanOrEqual(1);
    expect((await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } })).status).toBe("active");
  });

  it("a refused refresh token → needs_reauth with an auth_failed row; the integration's jobs wait (not failed, not lost)", async () => {
    await w.admin("POST", `/__sandbox/accounts/${w.accountId}/revoke-refresh-tokens`);
    const failedOutboundBefore = await w.queues.crmOutbound.getFailedCount();
    const failedChangesBefore = await w.queues.crmChanges.getFailedCount();
    const refreshesBefore = refreshes;
    const address = `reauth-${Date.now()}@example.com`;
    const created = await w.api<{ data: { id: string } }>("POST", "/api/v1/leads", { email: address, firstName: "Re", lastName: "Auth", company: "Acme" });
    expect(created.status).toBe(201);

    const integration = await eventually(async () => {
      const row = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
      return row.status === "needs_reauth" && row;
    }, "needs_reauth");
    expect(integration.status).toBe("needs_reauth");
    const errors = await w.prisma.integrationError.findMany({ where: { integrationId: w.integrationId, code: "auth_failed" } });
    expect(errors).toHaveLength(1);
    // One refresh was tried (and refused); nobody hammers the accounts server with a dead refresh token.
    expect(refreshes - refreshesBefore).toBe(1);

    // A person's change arriving meanwhile is accepted and queued; its job waits too.
    const person = `reauth-person-${Date.now()}@example.com`;
    const personId = await w.createRecord({ email: person, firstName: "Wait", lastName: "Ing", company: "Beta" });

    const waiting = await eventually(async () => {
      const outbound = await w.queues.crmOutbound.getDelayed();
      const changes = await w.queues.crmChanges.getDelayed();
      const changeJob = changes.find((job) => JSON.stringify(job.data).includes(personId));
      return outbound.length > 0 && changeJob !== undefined && { outbound, changeJob };
    }, "the outbound and inbound jobs in the delayed set");
    expect(JSON.stringify(waiting.outbound.map((j) => j.data))).toContain(created.json.data.id);
    // Waiting costs no attempts, and nothing failed.
    for (const job of [...waiting.outbound, waiting.changeJob]) expect(job.attemptsMade).toBe(0);
    expect(await w.queues.crmOutbound.getFailedCount()).toBe(failedOutboundBefore);
    expect(await w.queues.crmChanges.getFailedCount()).toBe(failedChangesBefore);
    // Their next look (promoted instead of waiting the minute) finds the integration still paused: back to waiting.
    const lookedAt = new Map([...waiting.outbound, waiting.changeJob].map((job) => [String(job.id), job.processedOn ?? 0]));
    const ids = [...lookedAt.keys()];
    for (const job of [...waiting.outbound, waiting.changeJob]) await job.promote();
    await eventually(async () => {
      const delayed = [...(await w.queues.crmOutbound.getDelayed()), ...(await w.queues.crmChanges.getDelayed())];
      const again = delayed.filter((job) => ids.includes(String(job.id)));
      return again.length === ids.length && again.every((job) => job.attemptsMade === 0 && (job.processedOn ?? 0) > (lookedAt.get(String(job.id)) ?? 0));
    }, "the jobs waiting again after another look");
    expect(await w.queues.crmOutbound.getFailedCount()).toBe(failedOutboundBefore);
    expect(await w.queues.crmChanges.getFailedCount()).toBe(failedChangesBefore);
    // Nothing reached Zoho or the leads: the platform lead is unlinked, the person's record has no lead yet.
    expect(await w.findRecords(address)).toHaveLength(0);
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email: person } })).toBe(0);
    expect(refreshes - refreshesBefore).toBe(1);

    // The customer connects the same Zoho org again (OAuth consent): the same integration is re-authorised — its id,
    // settings and links kept — and the waiting jobs go on with the new tokens; nothing was lost.
    const started = await w.api<{ data: { authorizeUrl: string } }>("GET", "/api/v1/crm-integration/connect/zoho");
    const consent = await fetch(new URL(`${started.json.data.authorizeUrl}&account_id=${w.accountId}`), { redirect: "manual" });
    const reconnected = await fetch(new URL(consent.headers.get("location") ?? ""), { headers: { accept: "application/json" } });
    expect(reconnected.status).toBe(201);
    expect(((await reconnected.json()) as { data: { id: string; status: string } }).data).toMatchObject({ id: w.integrationId, status: "active" });
    expect(w.logs.some((l) => l.msg === "CRM integration re-authorised" && l["integrationId"] === w.integrationId)).toBe(true);
    await eventually(async () => {
      // The waiting jobs would look again within a minute; promoted, they look now.
      for (const job of [...(await w.queues.crmOutbound.getDelayed()), ...(await w.queues.crmChanges.getDelayed())]) await job.promote().catch(() => undefined);
      const pushed = (await w.findRecords(address)).length === 1;
      const pulled = (await w.prisma.lead.count({ where: { orgId: w.orgId, email: person } })) === 1;
      return pushed && pulled;
    }, "the waiting jobs applied after re-authorisation", 30_000);
    expect(await w.queues.crmOutbound.getFailedCount()).toBe(failedOutboundBefore);
    expect(await w.queues.crmChanges.getFailedCount()).toBe(failedChangesBefore);
  });
  it("OAuth connect: a forged state or a forged accounts-server is a 400 that stores nothing; the real callback connects", async () => {
    const account = (await w.admin<{ accountId: string }>("POST", "/__sandbox/accounts", {})).json;
    const started = await w.api<{ data: { authorizeUrl: string } }>("GET", "/api/v1/crm-integration/connect/zoho");
    expect(started.status).toBe(200);
    const authorize = new URL(started.json.data.authorizeUrl);
    authorize.searchParams.set("account_id", account.accountId);
    // Zoho consents at once and sends the browser back with code, state, location and accounts-server.
    const consent = await fetch(authorize, { redirect: "manual" });
    expect(consent.status).toBe(302);
    const callbackUrl = new URL(consent.headers.get("location") ?? "");
    const state = callbackUrl.searchParams.get("state") ?? "";
    const [claims, signature] = state.split(".");
    const forgedClaims = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims ?? "", "base64url").toString()), org: "org-victim" })).toString("base64url");
    const integrationsBefore = await w.prisma.crmIntegration.count();
    const callback = async (url: URL) => {
      const response = await fetch(url, { headers: { accept: "application/json" } });
      return { status: response.status, json: (await response.json()) as { success: boolean; error?: { code: string } } };
    };
    const withParam = (name: string, value: string) => {
      const url = new URL(callbackUrl);
      url.searchParams.set(name, value);
      return url;
    };
    for (const forged of [`${forgedClaims}.${signature}`, `${claims}.not-the-signature`, "not-a-state"]) {
      const refused = await callback(withParam("state", forged));
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({ success: false, error: { code: "state_invalid" } });
    }
    expect(await w.prisma.crmIntegration.count()).toBe(integrationsBefore);
    // A real state whose callback names an accounts server Zoho does not have: the code is never sent there.
    const forgedServer = await callback(withParam("accounts-server", "https://accounts.attacker.example"));
    expect(forgedServer.status).toBe(400);
    expect(forgedServer.json).toMatchObject({ success: false, error: { code: "account_mismatch" } });
    expect(await w.prisma.crmIntegration.count()).toBe(integrationsBefore);
    // A fresh consent, untampered, connects the account for the JWT's org.
    const again = await fetch(new URL((await w.api<{ data: { authorizeUrl: string } }>("GET", "/api/v1/crm-integration/connect/zoho")).json.data.authorizeUrl + `&account_id=${account.accountId}`), { redirect: "manual" });
    const connected = await callback(new URL(again.headers.get("location") ?? ""));
    expect(connected.status).toBe(201);
    const row = await w.prisma.crmIntegration.findFirstOrThrow({ where: { orgId: w.orgId, externalAccountId: account.accountId } });
    expect(row).toMatchObject({ provider: "zoho", authType: "oauth", status: "active" });
  });
});
