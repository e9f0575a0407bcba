import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/index.js";
import { CLIENT_SECRET, sdkClient, startReceiver } from "./helpers.js";

// With `snapshotPath` the sandbox keeps its state across a restart (pnpm start's .leadsync/sandboxes/hubspot.json).

describe("a sandbox restarted on its snapshot", () => {
  const dir = mkdtempSync(join(tmpdir(), "hubspot-snapshot-"));
  const snapshotPath = join(dir, "hubspot.json");
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("has the same app, portal, token, contacts, custom property and webhook settings; new ids continue above the old", async () => {
    const receiver = await startReceiver();
    sandbox = await startSandbox({ clientSecret: CLIENT_SECRET, snapshotPath, webhookFlushMs: 10 });
    expect(sandbox.snapshot).toEqual({ path: snapshotPath, restored: false, reason: "missing" });
    const portal = sandbox.createPortal({ tier: "professional" });
    const client = sdkClient(sandbox, portal.accessToken);
    await client.crm.properties.coreApi.create("contacts", { name: "lead_source_system", label: "Lead source system", type: "string", fieldType: "text", groupName: "contactinformation" } as never);
    const kept = await client.crm.contacts.basicApi.create({ properties: { email: "kept@example.com", lead_source_system: "jazzaam" }, associations: [] });
    const gone = await client.crm.contacts.basicApi.create({ properties: { email: "gone@example.com" }, associations: [] });
    await client.crm.contacts.basicApi.archive(gone.id);
    await client.webhooks.settingsApi.configure(sandbox.app.appId, { targetUrl: receiver.url, throttling: { maxConcurrentRequests: 10 } });
    const app = sandbox.app;
    await sandbox.close();

    sandbox = await startSandbox({ clientSecret: CLIENT_SECRET, snapshotPath, webhookFlushMs: 10 });
    expect(sandbox.snapshot).toEqual({ path: snapshotPath, restored: true });
    expect(sandbox.app).toEqual(app);
    expect(sandbox.portals()).toEqual([portal]);
    const again = sdkClient(sandbox, portal.accessToken);
    expect((await again.crm.contacts.basicApi.getById(kept.id, ["email", "lead_source_system"])).properties).toMatchObject({ email: "kept@example.com", lead_source_system: "jazzaam" });
    await expect(again.crm.contacts.basicApi.getById(gone.id)).rejects.toMatchObject({ code: 404 });
    // The email index came back: the kept email is taken, the archived one is free again.
    await expect(again.crm.contacts.basicApi.create({ properties: { email: "kept@example.com" }, associations: [] })).rejects.toMatchObject({ code: 409 });
    const fresh = await again.crm.contacts.basicApi.create({ properties: { email: "gone@example.com" }, associations: [] });
    expect(Number(fresh.id)).toBeGreaterThan(Number(gone.id));
    // The webhook settings and the default subscriptions survived: a change is delivered to the stored target.
    expect((await sdkClient(sandbox).webhooks.subscriptionsApi.getAll(sandbox.app.appId)).results.length).toBeGreaterThan(0);
    await again.crm.contacts.basicApi.update(kept.id, { properties: { firstname: "Again" } });
    await sandbox.webhooksIdle();
    expect(receiver.events().some((e) => String(e["objectId"]) === kept.id && e["propertyName"] === "firstname")).toBe(true);
    expect(sandbox.createPortal().portalId).toBeGreaterThan(portal.portalId);
    await receiver.close();
  });

  it("stays in memory without snapshotPath", async () => {
    sandbox = await startSandbox({ clientSecret: CLIENT_SECRET });
    expect(sandbox.snapshot).toBeUndefined();
  });
});
