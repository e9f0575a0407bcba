import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./harness.js";

// Platform → HubSpot: the push carries the marker, the webhook echo creates no duplicate, HubSpot's own
// contacts keep their origin, settings gate the push, and one bad lead does not sink its batch.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

async function contactsWithEmail(portalId: number, email: string) {
  const response = await fetch(`${h.sandbox.url}/__sandbox/portals/${portalId}/contacts`);
  const { results } = (await response.json()) as { results: { id: string; properties: Record<string, string | null> }[] };
  return results.filter((c) => c.properties["email"] === email);
}

const linkOf = (leadId: string, integrationId = h.integration.id) =>
  h.prisma.leadCrmLink.findUnique({ where: { leadId_integrationId: { leadId, integrationId } } });

describe("a lead created on the platform", () => {
  it("reaches HubSpot with lead_source_system = jazzaam, is linked, and its echo creates no second lead", async () => {
    const lead = await h.createPlatformLead({ email: "platform@example.com", firstName: "Plat", jobTitle: "Buyer" });
    await h.enqueueOutbound(lead.id);
    const link = await eventually(async () => (await linkOf(lead.id)) ?? undefined, { what: "the link" });

    const contact = await h.getContact(link.externalId);
    expect(contact.properties).toMatchObject({ email: "platform@example.com", firstname: "Plat", jobtitle: "Buyer", lead_source_system: "jazzaam" });
    expect(link.lastPushed).toMatchObject({ lead_source_system: { value: "jazzaam" }, firstname: { value: "Plat" } });
    expect(h.logs.some((l) => l.msg === "Adding lead_source_system property to prevent sync loop" && l["leads"] === 1)).toBe(true);

    // The round trip: HubSpot's creation webhook for our contact comes back through the receiver.
    const echo = await eventually(
      async () => (await h.prisma.webhookEvent.findFirst({ where: { objectId: link.externalId, subscriptionType: "contact.creation" } })) ?? undefined,
      { what: "the echo" },
    );
    expect([echo.outcome, echo.reason]).toEqual(["skipped", "echo"]);
    await h.settled();
    expect(await h.prisma.lead.count({ where: { email: "platform@example.com" } })).toBe(1);
    expect(await h.prisma.leadCrmLink.count({ where: { leadId: lead.id } })).toBe(1);
    const unchanged = await h.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } });
    expect(unchanged).toMatchObject({ source: "jazzaam", firstName: "Plat", jobTitle: "Buyer" });
  });
});

describe("a contact a person created in HubSpot first", () => {
  it("is linked, not duplicated, and keeps its lead_source_system", async () => {
    // to_crm: inbound is off for this portal, so only the outbound worker can find and link the contact.
    const other = await h.addIntegration({ syncDirection: "to_crm" }, "org-origin");
    const [tagged, untagged] = await h.createContacts(
      [
        { email: "origin@example.com", firstname: "Origin", lead_source_system: "hubspot" },
        { email: "plain@example.com", firstname: "Plain" },
      ],
      other.portalId,
    );
    const leads = [
      await h.createPlatformLead({ email: "origin@example.com", phone: "+1 555 0100" }, "org-origin"),
      await h.createPlatformLead({ email: "plain@example.com", phone: "+1 555 0101" }, "org-origin"),
    ];
    for (const lead of leads) await h.enqueueOutbound(lead.id, { integrationId: other.integration.id });
    const links = await eventually(
      async () => {
        const found = await Promise.all(leads.map((l) => linkOf(l.id, other.integration.id)));
        return found.every((l) => l !== null) ? found : undefined;
      },
      { what: "both links" },
    );
    expect(links.map((l) => l?.externalId)).toEqual([tagged, untagged]);

    const [originContacts, plainContacts] = await Promise.all([
      contactsWithEmail(other.portalId, "origin@example.com"),
      contactsWithEmail(other.portalId, "plain@example.com"),
    ]);
    expect(originContacts).toHaveLength(1);
    expect(originContacts[0]?.properties).toMatchObject({ lead_source_system: "hubspot", phone: "+1 555 0100" });
    expect(plainContacts).toHaveLength(1);
    expect(plainContacts[0]?.properties["lead_source_system"] ?? null).toBeNull();
  });
});

describe("settings that stop the push", () => {
  it.each([
    ["from_crm", "org-fromcrm", { syncDirection: "from_crm" as const }],
    ["auto-sync off", "org-nosync", { autoSyncEnabled: false }],
  ])("%s: nothing is sent to HubSpot", async (_name, orgId, settings) => {
    const other = await h.addIntegration(settings, orgId);
    const lead = await h.createPlatformLead({ email: "quiet@example.com" }, orgId);
    await h.enqueueOutbound(lead.id, { integrationId: other.integration.id });
    await h.settled();
    const completed = await h.outbound.getJobCounts("completed");
    expect(completed["completed"]).toBeGreaterThan(0);
    const { byEndpoint } = (await h.stats(other.portalId)).calls;
    expect(Object.keys(byEndpoint).filter((endpoint) => endpoint.includes("/objects/contacts"))).toEqual([]);
    expect(await linkOf(lead.id, other.integration.id)).toBeNull();
  });
});

describe("a lead HubSpot rejects", () => {
  it("gets an IntegrationError row naming it; the other leads of the batch are pushed", async () => {
    const bad = await h.createPlatformLead({ email: "not-an-email" });
    const good = await h.createPlatformLead({ email: "fine@example.com", firstName: "Fine" });
    // Queued together, they usually share one batch: the rejection must not sink the other lead.
    await Promise.all([h.enqueueOutbound(bad.id), h.enqueueOutbound(good.id)]);
    const error = await eventually(async () => (await h.prisma.integrationError.findFirst({ where: { leadId: bad.id } })) ?? undefined, {
      what: "the error row",
    });
    expect(error).toMatchObject({ integrationId: h.integration.id, code: "outbound_failed" });
    expect(error.message).toMatch(/email/i);
    await eventually(async () => (await linkOf(good.id)) ?? undefined, { what: "the good lead's link" });
    expect(await linkOf(bad.id)).toBeNull();
    await h.settled();
    const failed = await h.outbound.getFailed();
    expect(failed.filter((j) => j.data.leadId === bad.id).map((j) => j.attemptsMade)).toEqual([1]);
  });
});
