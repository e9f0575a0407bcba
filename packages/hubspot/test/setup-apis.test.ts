import type { Sandbox } from "@leadsync/hubspot-sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkAccessToken } from "../src/account.js";
import { HubSpotApiError } from "../src/errors.js";
import { ensureLeadSourceProperty } from "../src/properties.js";
import { createHubSpotClient } from "../src/sdk-client.js";
import { enableWebhookSubscriptions, listWebhookSubscriptions } from "../src/webhook-subscriptions.js";
import { startTestSandbox } from "./sandbox-helpers.js";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(() => sandbox.close());

const clientFor = (accessToken: string) => createHubSpotClient({ basePath: sandbox.url, accessToken });

describe("ensureLeadSourceProperty", () => {
  it("creates the property once, then does nothing", async () => {
    const client = clientFor(sandbox.createPortal().accessToken);
    expect(await ensureLeadSourceProperty(client)).toEqual({ created: true, addedOptions: ["jazzaam", "hubspot", "manual"] });
    expect(await ensureLeadSourceProperty(client)).toEqual({ created: false, addedOptions: [] });
    const property = await client.crm.properties.coreApi.getByName("contacts", "lead_source_system");
    expect(property).toMatchObject({ type: "enumeration", fieldType: "select", groupName: "contactinformation" });
    expect(property.options.map((o) => [o.value, o.label])).toEqual([
      ["jazzaam", "Your Platform"],
      ["hubspot", "HubSpot CRM"],
      ["manual", "Manual Entry"],
    ]);
  });

  it("adds a missing option (another marker) and keeps the existing ones", async () => {
    const client = clientFor(sandbox.createPortal().accessToken);
    await ensureLeadSourceProperty(client);
    expect(await ensureLeadSourceProperty(client, "acme")).toEqual({ created: false, addedOptions: ["acme"] });
    const property = await client.crm.properties.coreApi.getByName("contacts", "lead_source_system");
    expect(property.options.map((o) => o.value)).toEqual(["jazzaam", "hubspot", "manual", "acme"]);
  });
});

describe("checkAccessToken", () => {
  it("returns the portal and its time zone", async () => {
    const portal = sandbox.createPortal();
    expect(await checkAccessToken(clientFor(portal.accessToken))).toEqual({ portalId: String(portal.portalId), timeZone: "US/Eastern" });
  });

  it("throws a clear, non-retryable error on 401 without echoing the token", async () => {
    const error = await checkAccessToken(clientFor("pat-na1-not-a-real-token")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubSpotApiError);
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect((error as Error).message).not.toContain("pat-na1-not-a-real-token");
  });
});

describe("enableWebhookSubscriptions", () => {
  it("configures the target and reuses subscriptions when run twice", async () => {
    const app = { basePath: sandbox.url, appId: sandbox.app.appId, developerApiKey: sandbox.app.developerApiKey };
    const options = { ...app, targetUrl: "https://leadsync.example/api/v1/webhooks/hubspot", propertyNames: ["email", "firstname"] };
    const first = await enableWebhookSubscriptions(options);
    expect(first.map((s) => [s.eventType, s.propertyName, s.active])).toEqual([
      ["contact.creation", undefined, true],
      ["contact.deletion", undefined, true],
      ["contact.propertyChange", "email", true],
      ["contact.propertyChange", "firstname", true],
    ]);
    // A paused subscription is re-activated, not duplicated.
    const client = createHubSpotClient({ basePath: sandbox.url, developerApiKey: sandbox.app.developerApiKey });
    await client.webhooks.subscriptionsApi.update(Number(first[2]?.id), Number(sandbox.app.appId), { active: false });
    const second = await enableWebhookSubscriptions(options);
    expect(second.map((s) => s.id)).toEqual(first.map((s) => s.id));
    expect(second.every((s) => s.active)).toBe(true);
    expect(await listWebhookSubscriptions(app)).toHaveLength(4);
    const settings = await client.webhooks.settingsApi.getAll(Number(sandbox.app.appId));
    expect(settings.targetUrl).toBe(options.targetUrl);
  });

  it("rejects a wrong developer API key as non-retryable", async () => {
    const error = await listWebhookSubscriptions({ basePath: sandbox.url, appId: sandbox.app.appId, developerApiKey: "wrong" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HubSpotApiError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).not.toContain("wrong");
  });
});
