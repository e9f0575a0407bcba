import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metrics } from "../../apps/worker/src/index.js";
import { eventually, hubspotEvent, startHarness, type Harness } from "./harness.js";

// Inbound edge cases through the whole pipeline: redeliveries, contacts without email, unknown portals, direction.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const eventRow = (objectId: string, type = "contact.creation") =>
  h.prisma.webhookEvent.findFirst({ where: { objectId, subscriptionType: type } });

describe("redelivery", () => {
  it("of the same batch (attemptNumber bumped) creates nothing twice and counts once", async () => {
    // A contact that exists in HubSpot, with its webhook posted by the test (the sandbox portal has none of its own here).
    const portalId = h.portalId;
    const [contactId] = await h.createContacts([{ email: "twice@example.com", firstname: "Twice" }]);
    await h.settled();
    const before = await h.prisma.crmIntegration.findUniqueOrThrow({ where: { id: h.integration.id } });

    const batch = [hubspotEvent({ portalId, objectId: contactId as string, subscriptionType: "contact.propertyChange", propertyName: "firstname", propertyValue: "Twice" })];
    expect(await h.postWebhook(batch)).toBe(200);
    expect(await h.postWebhook(batch.map((e) => ({ ...e, attemptNumber: 1 })))).toBe(200);
    const eventId = String(batch[0]?.eventId);
    await eventually(async () => (await h.prisma.webhookEvent.findFirst({ where: { eventId } })) ?? undefined, { what: "the event row" });
    await h.settled();

    expect(await h.prisma.lead.count({ where: { email: "twice@example.com" } })).toBe(1);
    expect(await h.prisma.webhookEvent.count({ where: { eventId } })).toBe(1);
    const after = await h.prisma.crmIntegration.findUniqueOrThrow({ where: { id: h.integration.id } });
    expect(after.webhookTotalReceived - before.webhookTotalReceived).toBe(1n);
  });
});

describe("contact without email", () => {
  it("creates nothing; the event is recorded as skipped (no_email) and logged", async () => {
    const [contactId] = await h.createContacts([{ firstname: "Nomail", lastname: "Person" }]);
    const row = await eventually(async () => (await eventRow(contactId as string)) ?? undefined, { what: "the event row" });
    expect([row.outcome, row.reason]).toEqual(["skipped", "no_email"]);
    expect(await h.prisma.lead.count({ where: { firstName: "Nomail" } })).toBe(0);
    expect(h.logs.some((l) => l.msg === "Skipping contact - no email address" && l.level === 40)).toBe(true);
  });
});

describe("unknown portal", () => {
  it("is dropped (200 to HubSpot), recorded without integration, warned about", async () => {
    const batch = [hubspotEvent({ portalId: 999_999_001, objectId: 5, subscriptionType: "contact.creation" })];
    expect(await h.postWebhook(batch)).toBe(200);
    const row = await eventually(async () => (await h.prisma.webhookEvent.findFirst({ where: { externalAccountId: "999999001" } })) ?? undefined, {
      what: "the event row",
    });
    expect(row).toMatchObject({ integrationId: null, outcome: "ignored", reason: "unknown_portal" });
    expect(h.logs.some((l) => l.level === 40 && l.msg.startsWith("Unknown HubSpot account 999999001"))).toBe(true);
    const counted = await metrics.unknownPortalEvents.get();
    expect(counted.values[0]?.value).toBeGreaterThanOrEqual(1);
  });
});

describe("direction to_crm", () => {
  it("ignores inbound events (counted as received, nothing read from HubSpot)", async () => {
    const second = await h.addIntegration({ syncDirection: "to_crm" }, "org-to-crm");
    const batch = [hubspotEvent({ portalId: second.portalId, objectId: 77, subscriptionType: "contact.creation" })];
    expect(await h.postWebhook(batch)).toBe(200);
    const row = await eventually(async () => (await h.prisma.webhookEvent.findFirst({ where: { integrationId: second.integration.id } })) ?? undefined, {
      what: "the event row",
    });
    expect([row.outcome, row.reason]).toEqual(["ignored", "direction"]);
    const integration = await h.prisma.crmIntegration.findUniqueOrThrow({ where: { id: second.integration.id } });
    expect(integration.webhookTotalReceived).toBe(1n);
    expect(integration.webhookLastReceivedAt).not.toBeNull();
    expect((await h.stats(second.portalId)).calls.byEndpoint["POST /crm/v3/objects/contacts/batch/read"] ?? 0).toBe(0);
    expect(await h.prisma.lead.count({ where: { orgId: "org-to-crm" } })).toBe(0);
  });
});
