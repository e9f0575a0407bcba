import { Signature } from "@hubspot/api-client";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../src/index.js";
import { admin, CLIENT_SECRET, sandboxWithPortal, startReceiver } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(respond?: Parameters<typeof startReceiver>[0], retryDelays = [50, 100]) {
  const receiver = await startReceiver(respond);
  const { sandbox, portal, client } = await sandboxWithPortal({
    webhookTargetUrl: receiver.url,
    webhookFlushMs: 20,
    webhookRetryDelaysMs: retryDelays,
  });
  cleanups.push(() => receiver.close(), () => sandbox.close());
  return { receiver, sandbox, portal, client };
}

const stats = async (sandbox: Sandbox, portalId: number) =>
  (await admin<{ webhooks: { delivered: number; failed: number; pending: number; dropped: number } }>(sandbox, "GET", `/__sandbox/portals/${portalId}/stats`)).body;

describe("webhook delivery", () => {
  it("posts signed batches of at most 100 events that verify with the SDK (v1 and v3)", async () => {
    const { receiver, sandbox, portal } = await setup();
    const contacts = Array.from({ length: 150 }, (_, i) => ({ properties: { email: `w${i}@example.com` } }));
    const created = await admin<{ ids: string[] }>(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, { contacts });
    expect(created.status).toBe(201);
    await sandbox.webhooksIdle(5000);

    // 150 creations + 150 email propertyChanges
    const events = receiver.events();
    expect(events).toHaveLength(300);
    expect(receiver.received.length).toBeGreaterThanOrEqual(3);
    for (const request of receiver.received) {
      expect(request.events.length).toBeLessThanOrEqual(100);
      expect(Signature.isValid({ signature: String(request.headers["x-hubspot-signature"]), clientSecret: CLIENT_SECRET, requestBody: request.body })).toBe(true);
      expect(request.headers["x-hubspot-signature-version"]).toBe("v1");
      expect(
        Signature.isValid({
          signatureVersion: "v3",
          signature: String(request.headers["x-hubspot-signature-v3"]),
          clientSecret: CLIENT_SECRET,
          requestBody: request.body,
          url: receiver.url,
          method: "POST",
          timestamp: Number(request.headers["x-hubspot-request-timestamp"]),
        }),
      ).toBe(true);
      expect(Signature.isValid({ signature: String(request.headers["x-hubspot-signature"]), clientSecret: "wrong", requestBody: request.body })).toBe(false);
    }
    const creation = events.find((e) => e["subscriptionType"] === "contact.creation");
    expect(creation).toMatchObject({
      portalId: portal.portalId,
      appId: sandbox.app.appId,
      attemptNumber: 0,
      changeSource: "CRM_UI",
      objectId: Number(created.body.ids[0]),
    });
    expect(String(creation?.["sourceId"])).toMatch(/^userId:\d+$/);
    const eventIds = events.map((e) => Number(e["eventId"]));
    expect(new Set(eventIds).size).toBe(eventIds.length);
    expect((await stats(sandbox, portal.portalId)).webhooks).toMatchObject({ delivered: 300, failed: 0, pending: 0 });
  });

  it("emits propertyChange only for subscribed properties whose value really changed", async () => {
    const { receiver, sandbox, portal, client } = await setup();
    const contact = await client.crm.contacts.basicApi.create({ properties: { email: "pc@example.com", firstname: "Pat", city: "Oslo" }, associations: [] });
    await sandbox.webhooksIdle(5000);
    const onCreate = receiver.events();
    expect(onCreate.map((e) => [e["subscriptionType"], e["propertyName"]])).toEqual(
      expect.arrayContaining([
        ["contact.creation", undefined],
        ["contact.propertyChange", "email"],
        ["contact.propertyChange", "firstname"],
      ]),
    );
    expect(onCreate).toHaveLength(3); // city is not subscribed
    expect(onCreate.every((e) => e["changeSource"] === "INTEGRATION" && e["sourceId"] === String(sandbox.app.appId))).toBe(true);

    receiver.received.length = 0;
    await client.crm.contacts.basicApi.update(contact.id, { properties: { firstname: "Pat", city: "Bergen", lastname: "Doe" } });
    await admin(sandbox, "PATCH", `/__sandbox/portals/${portal.portalId}/contacts/${contact.id}`, { properties: { phone: "+4712345678" } });
    await client.crm.contacts.basicApi.archive(contact.id);
    await sandbox.webhooksIdle(5000);
    const later = receiver.events().map((e) => [e["subscriptionType"], e["propertyName"] ?? null, e["propertyValue"] ?? null, e["changeSource"]]);
    expect(later).toEqual([
      ["contact.propertyChange", "lastname", "Doe", "INTEGRATION"],
      ["contact.propertyChange", "phone", "+4712345678", "CRM_UI"],
      ["contact.deletion", null, null, "INTEGRATION"],
    ]);
  });

  it("retries a failed batch with attemptNumber+1 (new body, new signature) and counts give-ups as failed", async () => {
    const { receiver, sandbox, portal } = await setup((_request, index) => (index === 0 ? 500 : 200));
    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, { contacts: [{ properties: { firstname: "Retry" } }] });
    await sandbox.webhooksIdle(5000);
    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received;
    expect(first?.events.map((e) => e["attemptNumber"])).toEqual([0, 0]);
    expect(second?.events.map((e) => e["attemptNumber"])).toEqual([1, 1]);
    expect(second?.events.map((e) => e["eventId"])).toEqual(first?.events.map((e) => e["eventId"]));
    expect(second?.headers["x-hubspot-signature"]).not.toBe(first?.headers["x-hubspot-signature"]);
    expect((await stats(sandbox, portal.portalId)).webhooks).toMatchObject({ delivered: 2, failed: 0, pending: 0 });
  });

  it("gives up after the last retry delay", async () => {
    const { receiver, sandbox, portal } = await setup(() => 503, [20]);
    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, { contacts: [{ properties: { lastname: "Never" } }] });
    await sandbox.webhooksIdle(5000);
    expect(receiver.received.map((r) => r.events[0]?.["attemptNumber"])).toEqual([0, 1]);
    expect((await stats(sandbox, portal.portalId)).webhooks).toMatchObject({ delivered: 0, failed: 2, pending: 0 });
  });

  it("drops or fails deliveries on injected webhook faults", async () => {
    const { receiver, sandbox, portal } = await setup(undefined, [20]);
    expect((await admin(sandbox, "POST", "/__sandbox/faults", { portalId: portal.portalId, kind: "drop_webhooks", count: 1 })).status).toBe(201);
    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, { contacts: [{ properties: { firstname: "Lost" } }] });
    await sandbox.webhooksIdle(5000);
    expect(receiver.received).toHaveLength(0);
    expect((await stats(sandbox, portal.portalId)).webhooks).toMatchObject({ dropped: 2, delivered: 0 });

    await admin(sandbox, "POST", "/__sandbox/faults", { kind: "fail_webhooks", count: 1 });
    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, { contacts: [{ properties: { firstname: "Late" } }] });
    await sandbox.webhooksIdle(5000);
    expect(receiver.received.map((r) => r.events[0]?.["attemptNumber"])).toEqual([1]); // attempt 0 "failed" without a request
  });

  it("emits merge, restore and privacyDeletion (+ deletion) for subscribed apps", async () => {
    const { receiver, sandbox, portal, client } = await setup();
    const appId = sandbox.app.appId;
    for (const eventType of ["contact.merge", "contact.restore", "contact.privacyDeletion"]) {
      await client.webhooks.subscriptionsApi.create(appId, { eventType, active: true } as never);
    }
    const { body } = await admin<{ ids: string[] }>(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, {
      contacts: [{ properties: { email: "keep@example.com" } }, { properties: { email: "lose@example.com", city: "Rome" } }, { properties: { lastname: "Gone" } }],
    });
    const [keep, lose, gone] = body.ids as [string, string, string];
    await sandbox.webhooksIdle(5000);
    receiver.received.length = 0;

    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts/${keep}/merge`, { objectIdToMerge: lose });
    await admin(sandbox, "DELETE", `/__sandbox/portals/${portal.portalId}/contacts/${gone}`);
    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts/${gone}/restore`);
    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts/${gone}/privacy-delete`);
    await sandbox.webhooksIdle(5000);
    const events = receiver.events().map((e) => [e["subscriptionType"], e["objectId"]]);
    expect(events).toEqual([
      ["contact.merge", Number(keep)],
      ["contact.deletion", Number(gone)],
      ["contact.restore", Number(gone)],
      ["contact.privacyDeletion", Number(gone)],
      ["contact.deletion", Number(gone)],
    ]);
    expect(receiver.events()[0]).toMatchObject({ primaryObjectId: Number(keep), mergedObjectIds: [Number(lose)], numberOfPropertiesMoved: 1 });
    expect((await admin(sandbox, "GET", `/__sandbox/portals/${portal.portalId}/contacts/${gone}`)).status).toBe(404);
  });

  it("keeps at most maxConcurrentRequests (10) batches in flight per portal", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let events = 0;
    const server = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        events += (JSON.parse(Buffer.concat(chunks).toString()) as unknown[]).length;
        setTimeout(() => {
          inFlight--;
          res.end();
        }, 100); // hold each request so batches overlap
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { sandbox, portal } = await sandboxWithPortal({
      webhookTargetUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
      webhookFlushMs: 20,
    });
    cleanups.push(() => sandbox.close());
    const contacts = Array.from({ length: 750 }, (_, i) => ({ properties: { firstname: `c${i}` } }));
    await admin(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, { contacts }); // 1500 events = 15 batches
    await sandbox.webhooksIdle(10_000);
    expect(events).toBe(1500);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(10);
  });
});
