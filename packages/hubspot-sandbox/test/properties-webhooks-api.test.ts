import type { Client } from "@hubspot/api-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PortalInfo, Sandbox } from "../src/index.js";
import { apiError, sandboxWithPortal, sdkClient } from "./helpers.js";

let sandbox: Sandbox;
let portal: PortalInfo;
let client: Client;

beforeAll(async () => {
  ({ sandbox, portal, client } = await sandboxWithPortal({ defaultSubscriptions: false }));
});
afterAll(async () => {
  await sandbox.close();
});

describe("properties API", () => {
  it("does not seed lead_source_system, creates it (201), answers 409 on a second create, and patches options", async () => {
    const missing = await apiError(client.crm.properties.coreApi.getByName("contacts", "lead_source_system"));
    expect(missing.code).toBe(404);

    const created = await client.crm.properties.coreApi.create("contacts", {
      name: "lead_source_system",
      label: "Lead source system",
      type: "enumeration",
      fieldType: "select",
      groupName: "contactinformation",
      options: [{ label: "jazzaam", value: "jazzaam", hidden: false, displayOrder: 0 }],
    } as never);
    expect(created).toMatchObject({ name: "lead_source_system", type: "enumeration", hubspotDefined: false });
    expect(created.createdAt).toBeInstanceOf(Date);

    const again = await apiError(
      client.crm.properties.coreApi.create("contacts", { name: "lead_source_system", label: "x", type: "string", fieldType: "text", groupName: "contactinformation" } as never),
    );
    expect(again.code).toBe(409);
    expect(again.body["category"]).toBe("CONFLICT");

    const rejected = await apiError(client.crm.contacts.basicApi.create({ properties: { email: "o@example.com", lead_source_system: "other" }, associations: [] }));
    expect(rejected.code).toBe(400);

    const patched = await client.crm.properties.coreApi.update("contacts", "lead_source_system", {
      options: [
        { label: "jazzaam", value: "jazzaam", hidden: false, displayOrder: 0 },
        { label: "other", value: "other", hidden: false, displayOrder: 1 },
      ],
    } as never);
    expect(patched.options.map((o) => o.value)).toEqual(["jazzaam", "other"]);
    const contact = await client.crm.contacts.basicApi.create({ properties: { email: "o@example.com", lead_source_system: "other" }, associations: [] });
    expect(contact.properties["lead_source_system"]).toBe("other");

    const all = await client.crm.properties.coreApi.getAll("contacts");
    expect(all.results.map((p) => p.name)).toEqual(expect.arrayContaining(["email", "firstname", "lifecyclestage", "hs_object_id", "lead_source_system"]));
  });
});

describe("webhooks v3 API with the developer API key", () => {
  it("configures settings and manages subscriptions", async () => {
    const appId = sandbox.app.appId;
    const webhooks = sdkClient(sandbox).webhooks;

    expect((await apiError(webhooks.settingsApi.getAll(appId))).code).toBe(404);
    const settings = await webhooks.settingsApi.configure(appId, { targetUrl: "http://127.0.0.1:9/hooks", throttling: { maxConcurrentRequests: 10 } });
    expect(settings).toMatchObject({ targetUrl: "http://127.0.0.1:9/hooks", throttling: { maxConcurrentRequests: 10 } });
    expect((await webhooks.settingsApi.getAll(appId)).targetUrl).toBe("http://127.0.0.1:9/hooks");

    const paused = await webhooks.subscriptionsApi.create(appId, { eventType: "contact.propertyChange", propertyName: "email" } as never);
    expect(paused.active).toBe(false);
    const active = await webhooks.subscriptionsApi.create(appId, { eventType: "contact.creation", active: true } as never);
    expect(active.active).toBe(true);

    const resumed = await webhooks.subscriptionsApi.update(Number(paused.id), appId, { active: true });
    expect(resumed.active).toBe(true);
    const batch = await webhooks.subscriptionsApi.updateBatch(appId, { inputs: [{ id: Number(active.id), active: false }] });
    expect(batch.results[0]?.active).toBe(false);

    const list = await webhooks.subscriptionsApi.getAll(appId);
    expect(list.results.map((s) => [s.eventType, s.propertyName ?? null, s.active])).toEqual([
      ["contact.propertyChange", "email", true],
      ["contact.creation", null, false],
    ]);
    await webhooks.subscriptionsApi.archive(Number(active.id), appId);
    expect((await apiError(webhooks.subscriptionsApi.getById(Number(active.id), appId))).code).toBe(404);

    await webhooks.settingsApi.clear(appId);
    expect((await apiError(webhooks.settingsApi.getAll(appId))).code).toBe(404);
  });

  it("answers 401 for a wrong developer API key", async () => {
    const { Client } = await import("@hubspot/api-client");
    const wrong = new Client({ basePath: sandbox.url, developerApiKey: "wrong-key" });
    const error = await apiError(wrong.webhooks.subscriptionsApi.getAll(sandbox.app.appId));
    expect(error.code).toBe(401);
  });

  it("identifies the portal behind a token", async () => {
    const response = await client.apiRequest({ method: "GET", path: "/account-info/v3/details" });
    expect(await response.json()).toMatchObject({ portalId: portal.portalId, timeZone: "US/Eastern" });
  });
});
