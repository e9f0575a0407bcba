import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./harness.js";

// The setup guide's "Step 4: Test the Integration", end to end: sandbox → signed webhook → receiver → BullMQ → worker → Postgres.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const leadByEmail = (email: string) => h.prisma.lead.findFirst({ where: { orgId: h.orgId, email }, include: { links: true } });

describe("setup guide, Test 2: a contact created in HubSpot", () => {
  it("appears as a lead with source hubspot, linked to the contact, in the CRM Import form", async () => {
    const [contactId] = await h.createContacts([{ email: "Grace@Example.com", firstname: "Grace", lastname: "Hopper", company: "Navy" }]);
    const lead = await eventually(async () => (await leadByEmail("grace@example.com")) ?? undefined, { what: "the lead" });
    expect(lead).toMatchObject({ firstName: "Grace", lastName: "Hopper", company: "Navy", source: "hubspot" });
    expect(lead.links.map((l) => [l.integrationId, l.externalId])).toEqual([[h.integration.id, contactId]]);
    const form = await h.prisma.form.findUniqueOrThrow({ where: { id: lead.formId } });
    expect(form).toMatchObject({ name: "CRM Import", isCrmImport: true, orgId: h.orgId });

    const messages = h.logs.map((l) => l.msg);
    expect(messages).toContain(`HubSpot Webhook: contact.creation for contact ${contactId}`);
    expect(messages).toContain(`Creating new lead from HubSpot contact ${contactId}`);
    expect(messages).toContain(`Lead created: ${lead.id}`);
  });
});

describe("setup guide, Test 1: a contact our platform created", () => {
  it("creates no lead when lead_source_system is the marker", async () => {
    const [own] = await h.createContacts([
      { email: "ours@example.com", firstname: "Ours", lead_source_system: "jazzaam" },
      { email: "after@example.com", firstname: "After" },
    ]);
    // The second contact's lead proves the batch was processed; the first must have been skipped in it.
    await eventually(async () => (await leadByEmail("after@example.com")) ?? undefined, { what: "the control lead" });
    await eventually(async () => h.logs.some((l) => l.msg === `Skipping contact ${own} - originated from our platform`), { what: "the skip log" });
    expect(await leadByEmail("ours@example.com")).toBeNull();
    const events = await h.prisma.webhookEvent.findMany({ where: { objectId: own as string, subscriptionType: "contact.creation" } });
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([["skipped", "own_record"]]);
  });
});

describe("setup guide, Test 3: an update in HubSpot", () => {
  it("reaches the lead (phone and job title)", async () => {
    const [contactId] = await h.createContacts([{ email: "ada@example.com", firstname: "Ada" }]);
    const lead = await eventually(async () => (await leadByEmail("ada@example.com")) ?? undefined, { what: "the lead" });
    await h.updateContact(contactId as string, { phone: "+44 20 7946 0000", jobtitle: "Analyst" });
    const updated = await eventually(
      async () => {
        const row = await h.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } });
        return row.phone && row.jobTitle ? row : undefined;
      },
      { what: "the update" },
    );
    expect(updated).toMatchObject({ phone: "+44 20 7946 0000", jobTitle: "Analyst", firstName: "Ada" });
    expect(h.logs.map((l) => l.msg)).toContain(`Lead updated: ${lead.id}`);
  });
});

describe("webhook status counters", () => {
  it("count received events and remember the last one", async () => {
    const integration = await h.prisma.crmIntegration.findUniqueOrThrow({ where: { id: h.integration.id } });
    const events = await h.prisma.webhookEvent.count({ where: { integrationId: h.integration.id } });
    expect(events).toBeGreaterThan(0);
    expect(Number(integration.webhookTotalReceived)).toBe(events);
    expect(integration.webhookLastReceivedAt).not.toBeNull();
  });
});
