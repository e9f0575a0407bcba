import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, hubspotEvent, startHarness, type Harness } from "./harness.js";
import { startPlatformApi, type PlatformApi } from "./two-way-api.js";

// Issue 6, contact lifecycle through the whole pipeline: deletion (keep / archive), restore, merge, privacy deletion.

let h: Harness;
let api: PlatformApi;
beforeAll(async () => {
  h = await startHarness();
  api = await startPlatformApi(h);
  // The app's subscriptions (as enable-webhooks sets them): restore, merge and privacyDeletion too.
  const enabled = await api.call(h.orgId, "POST", `/api/v1/crm-integration/${h.integration.id}/enable-webhooks`, { webhookUrl: h.webhookUrl });
  expect(enabled.status).toBe(200);
});
afterAll(async () => {
  await api?.close();
  await h?.close();
});

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${h.sandbox.url}/__sandbox/portals/${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`sandbox ${method} ${path} → ${response.status}`);
}

const linkOf = (contactId: string) => h.prisma.leadCrmLink.findFirst({ where: { externalId: contactId } });
const lead = (id: string) => h.prisma.lead.findUniqueOrThrow({ where: { id } });

async function personContact(properties: Record<string, string>, portalId = h.portalId) {
  const [contactId] = await h.createContacts([properties], portalId);
  const link = await eventually(async () => (await linkOf(contactId as string)) ?? undefined, { what: "the lead" });
  await h.settled();
  return { contactId: contactId as string, leadId: link.leadId };
}

async function unlinked(contactId: string) {
  await eventually(async () => (await linkOf(contactId)) === null, { what: `contact ${contactId} unlinked` });
  await h.settled();
}

describe("contact.deletion and contact.restore", () => {
  it("keep (default): the lead is unlinked and kept; a restore links it again", async () => {
    const { contactId, leadId } = await personContact({ email: "keep@example.com", firstname: "Keep" });
    await admin("DELETE", `${h.portalId}/contacts/${contactId}`);
    await unlinked(contactId);
    expect(await lead(leadId)).toMatchObject({ email: "keep@example.com", firstName: "Keep", archivedAt: null });

    await admin("POST", `${h.portalId}/contacts/${contactId}/restore`);
    await eventually(async () => (await linkOf(contactId))?.leadId === leadId, { what: "the relink" });
    expect(await h.prisma.lead.count({ where: { orgId: h.orgId, email: "keep@example.com" } })).toBe(1);
  });

  it("archive: the lead is archived, and unarchived when the contact is restored", async () => {
    const orgId = `org-${randomUUID().slice(0, 8)}`;
    const { portalId } = await h.addIntegration({ settings: { onContactDeleted: "archive" } }, orgId);
    const { contactId, leadId } = await personContact({ email: "archive@example.com" }, portalId);
    await admin("DELETE", `${portalId}/contacts/${contactId}`);
    await unlinked(contactId);
    expect((await lead(leadId)).archivedAt).toBeInstanceOf(Date);

    await admin("POST", `${portalId}/contacts/${contactId}/restore`);
    await eventually(async () => (await linkOf(contactId))?.leadId === leadId, { what: "the relink" });
    expect((await lead(leadId)).archivedAt).toBeNull();
  });
});

describe("contact.merge", () => {
  it("links the lead to the surviving contact, creates no lead, unlinks the merged one", async () => {
    const a = await personContact({ email: "merge-a@example.com", firstname: "A" });
    const b = await personContact({ email: "merge-b@example.com", firstname: "B", company: "B Corp" });
    const leadsBefore = await h.prisma.lead.count({ where: { orgId: h.orgId } });

    await admin("POST", `${h.portalId}/contacts/${a.contactId}/merge`, { objectIdToMerge: b.contactId });
    await unlinked(b.contactId);
    expect((await linkOf(a.contactId))?.leadId).toBe(a.leadId);
    expect(await h.prisma.lead.count({ where: { orgId: h.orgId } })).toBe(leadsBefore);
    // The survivor took B's company (HubSpot moves what the primary lacks): the lead follows.
    await eventually(async () => (await lead(a.leadId)).company === "B Corp", { what: "the merged values" });
  });

  it("moves the merged contact's lead to the survivor when the survivor had none", async () => {
    const [noEmail] = await h.createContacts([{ firstname: "No email yet" }]);
    const b = await personContact({ email: "merge-moved@example.com", firstname: "Moved" });
    await eventually(async () => (await h.prisma.webhookEvent.findFirst({ where: { objectId: noEmail as string } })) ?? undefined, { what: "the skipped contact" });
    const leadsBefore = await h.prisma.lead.count({ where: { orgId: h.orgId } });

    await admin("POST", `${h.portalId}/contacts/${noEmail}/merge`, { objectIdToMerge: b.contactId });
    await eventually(async () => (await linkOf(noEmail as string))?.leadId === b.leadId, { what: "the lead on the survivor" });
    await h.settled();
    expect(await linkOf(b.contactId)).toBeNull();
    expect(await h.prisma.lead.count({ where: { orgId: h.orgId } })).toBe(leadsBefore);
  });
});

describe("contact.privacyDeletion", () => {
  async function expectErased(leadId: string, contactId: string, personal: string[]) {
    const erased = await eventually(async () => {
      const row = await lead(leadId);
      return row.email.startsWith("erased-") ? row : undefined;
    }, { what: "the erasure" });
    await h.settled();
    expect(erased).toMatchObject({ email: `erased-${leadId}@erased.invalid`, firstName: null, lastName: null, phone: null, company: null, jobTitle: null });
    expect(await linkOf(contactId)).toBeNull();
    const audit = await h.prisma.privacyErasure.findMany({ where: { leadId } });
    expect(audit).toHaveLength(1);
    expect(Object.keys(audit[0] ?? {}).sort()).toEqual(["erasedAt", "externalId", "id", "integrationId", "leadId"]);
    expect(audit[0]).toMatchObject({ externalId: contactId, integrationId: h.integration.id });
    // No personal data left on our side for this lead: not in the lead, the audit, the link memory.
    const everything = JSON.stringify([await lead(leadId), audit, await h.prisma.unlinkedContact.findMany({ where: { leadId } })]);
    for (const value of personal) expect(everything).not.toContain(value);
  }

  it("erases the lead's personal data, with an audit row (HubSpot's privacyDeletion + deletion in one batch)", async () => {
    const { contactId, leadId } = await personContact({ email: "gdpr-1@example.com", firstname: "Greta", lastname: "Private", phone: "+4912345" });
    await admin("POST", `${h.portalId}/contacts/${contactId}/privacy-delete`);
    await expectErased(leadId, contactId, ["gdpr-1@example.com", "Greta", "Private", "+4912345"]);
  });

  it("after the contact's deletion was applied", async () => {
    const { contactId, leadId } = await personContact({ email: "gdpr-2@example.com", firstname: "Gert" });
    await admin("DELETE", `${h.portalId}/contacts/${contactId}`);
    await unlinked(contactId);
    expect(await h.postWebhook([hubspotEvent({ portalId: h.portalId, objectId: contactId, subscriptionType: "contact.privacyDeletion" })])).toBe(200);
    await expectErased(leadId, contactId, ["gdpr-2@example.com", "Gert"]);
  });

  it("before the contact's deletion, which then changes nothing", async () => {
    const { contactId, leadId } = await personContact({ email: "gdpr-3@example.com", firstname: "Gisela" });
    expect(await h.postWebhook([hubspotEvent({ portalId: h.portalId, objectId: contactId, subscriptionType: "contact.privacyDeletion" })])).toBe(200);
    await expectErased(leadId, contactId, ["gdpr-3@example.com", "Gisela"]);
    await admin("DELETE", `${h.portalId}/contacts/${contactId}`);
    await eventually(async () => (await h.prisma.webhookEvent.findFirst({ where: { objectId: contactId, subscriptionType: "contact.deletion" } })) ?? undefined, { what: "the deletion" });
    await h.settled();
    await expectErased(leadId, contactId, ["gdpr-3@example.com", "Gisela"]);
  });
});
