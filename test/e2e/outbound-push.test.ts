import { readPushedFields } from "../../packages/core/src/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./harness.js";

// The outbound push's cost and precision: one batch-create call per 100 new leads, a taken email linked and
// updated without claiming the contact's origin, an edit sending only the changed property, an unchanged lead
// sending nothing, and one bad lead failing alone.

const BATCH_CREATE = "POST /crm/v3/objects/contacts/batch/create";
const BATCH_UPDATE = "POST /crm/v3/objects/contacts/batch/update";

let h: Harness;
beforeAll(async () => {
  // A window wide enough that 250 queued leads gather into full batches of 100 (the harness's worker concurrency
  // is 64: the outbound worker must run at least 100 jobs at once for that).
  h = await startHarness({ batchWindowMs: 400 });
});
afterAll(async () => h?.close());

async function calls(portalId: number) {
  const { byEndpoint } = (await h.stats(portalId)).calls;
  return { create: byEndpoint[BATCH_CREATE] ?? 0, update: byEndpoint[BATCH_UPDATE] ?? 0, other: Object.keys(byEndpoint).filter((e) => e.includes("/batch/upsert")) };
}

const linkOf = (leadId: string, integrationId: string) =>
  h.prisma.leadCrmLink.findUnique({ where: { leadId_integrationId: { leadId, integrationId } } });

async function pushAndLink(leadId: string, integrationId: string, reason: "created" | "updated" = "created") {
  await h.enqueueOutbound(leadId, { integrationId, reason });
  return eventually(async () => (await linkOf(leadId, integrationId)) ?? undefined, { what: `the link of ${leadId}` });
}

async function sandboxContact(portalId: number, contactId: string) {
  const response = await fetch(`${h.sandbox.url}/__sandbox/portals/${portalId}/contacts/${contactId}`);
  return ((await response.json()) as { properties: Record<string, string | null> }).properties;
}

describe("new leads", () => {
  it("250 leads cost exactly 3 batch-create calls, all linked with the marker, and their echoes create no lead", async () => {
    const { portalId, integration } = await h.addIntegration({}, "org-bulk");
    const { id: firstId } = await h.createPlatformLead({ email: "bulk0@example.com", firstName: "Bulk0" }, "org-bulk");
    const form = await h.prisma.lead.findUniqueOrThrow({ where: { id: firstId }, select: { formId: true } });
    await h.prisma.lead.createMany({
      data: Array.from({ length: 249 }, (_, i) => ({
        orgId: "org-bulk",
        formId: form.formId,
        email: `bulk${i + 1}@example.com`,
        firstName: `Bulk${i + 1}`,
        source: h.config.leadSourceMarker,
      })),
    });
    const leads = await h.prisma.lead.findMany({ where: { orgId: "org-bulk" }, select: { id: true } });
    await Promise.all(leads.map((l) => h.enqueueOutbound(l.id, { integrationId: integration.id })));

    await eventually(async () => (await h.prisma.leadCrmLink.count({ where: { integrationId: integration.id } })) === 250, {
      what: "250 links",
      timeoutMs: 30_000,
    });
    await h.settled();
    expect(await calls(portalId)).toEqual({ create: 3, update: 0, other: [] });
    const link = await h.prisma.leadCrmLink.findFirstOrThrow({ where: { leadId: firstId } });
    expect(await sandboxContact(portalId, link.externalId)).toMatchObject({ email: "bulk0@example.com", firstname: "Bulk0", lead_source_system: "jazzaam" });
    expect(readPushedFields(link.lastPushed)).toMatchObject({ lead_source_system: { value: "jazzaam" }, firstname: { value: "Bulk0" } });
    const marked = h.logs.filter((l) => l.msg === "Adding lead_source_system property to prevent sync loop" && l["integrationId"] === integration.id);
    expect(marked.map((l) => l["leads"])).toEqual([100, 100, 50]);
    // The creation webhooks came back through the receiver: still one lead per email.
    expect(await h.prisma.lead.count({ where: { orgId: "org-bulk" } })).toBe(250);
  });

  it("a lead whose email a person already has in HubSpot is linked to that contact, which keeps its origin, for one extra update call", async () => {
    // to_crm: the person's contact does not come in as a lead first.
    const { portalId, integration } = await h.addIntegration({ syncDirection: "to_crm" }, "org-person");
    const [personsId] = await h.createContacts([{ email: "person@example.com", firstname: "Per", lead_source_system: "hubspot" }], portalId);
    const lead = await h.createPlatformLead({ email: "person@example.com", firstName: "Persona", phone: "+1 555 0142" }, "org-person");
    const link = await pushAndLink(lead.id, integration.id);
    await h.settled();

    expect(link.externalId).toBe(personsId);
    expect(await sandboxContact(portalId, personsId as string)).toMatchObject({ firstname: "Persona", phone: "+1 555 0142", lead_source_system: "hubspot" });
    expect(await calls(portalId)).toEqual({ create: 1, update: 1, other: [] });
    expect(readPushedFields(link.lastPushed)).not.toHaveProperty("lead_source_system");
    expect(h.logs.some((l) => l["leadId"] === lead.id && String(l.msg).includes(`linked to existing HubSpot contact ${personsId}`))).toBe(true);
  });
});

describe("linked leads", () => {
  it("an edit of one field sends one batch update carrying only that property; an unchanged lead sends nothing", async () => {
    const { portalId, integration } = await h.addIntegration({ syncDirection: "to_crm" }, "org-edit");
    const lead = await h.createPlatformLead({ email: "edit@example.com", firstName: "Ed", jobTitle: "Buyer" }, "org-edit");
    const link = await pushAndLink(lead.id, integration.id);
    await h.settled();
    const before = await calls(portalId);

    // What PATCH /api/v1/leads/:id does: change the column, queue an "updated" push.
    await h.prisma.lead.update({ where: { id: lead.id }, data: { jobTitle: "Head of Buying" } });
    await h.enqueueOutbound(lead.id, { integrationId: integration.id, reason: "updated" });
    await eventually(async () => (await sandboxContact(portalId, link.externalId))["jobtitle"] === "Head of Buying", { what: "the edit in HubSpot" });
    await h.settled();
    expect(await calls(portalId)).toEqual({ ...before, update: before.update + 1 });
    const updated = h.logs.find((l) => l["leadId"] === lead.id && String(l.msg).startsWith(`Lead ${lead.id} updated`));
    expect(updated?.["properties"]).toEqual(["jobtitle"]);
    const pushed = readPushedFields((await linkOf(lead.id, integration.id))?.lastPushed);
    expect(pushed).toMatchObject({ jobtitle: { value: "Head of Buying" }, firstname: { value: "Ed" }, lead_source_system: { value: "jazzaam" } });
    expect(pushed["jobtitle"]?.at).toBeGreaterThan(pushed["firstname"]?.at ?? Infinity);

    // Pushed again with nothing new: no call at all, and the job still completes.
    const completedBefore = (await h.outbound.getJobCounts("completed"))["completed"] ?? 0;
    await h.enqueueOutbound(lead.id, { integrationId: integration.id, reason: "updated" });
    await eventually(async () => ((await h.outbound.getJobCounts("completed"))["completed"] ?? 0) > completedBefore, { what: "the no-op job" });
    await h.settled();
    expect(await calls(portalId)).toEqual({ ...before, update: before.update + 1 });
  });

  it("an invalid value fails that lead alone with an error row; the other lead of the batch is updated", async () => {
    const { portalId, integration } = await h.addIntegration({ syncDirection: "to_crm" }, "org-invalid");
    const bad = await h.createPlatformLead({ email: "will-break@example.com" }, "org-invalid");
    const good = await h.createPlatformLead({ email: "stays-fine@example.com" }, "org-invalid");
    const [, goodLink] = await Promise.all([pushAndLink(bad.id, integration.id), pushAndLink(good.id, integration.id)]);
    await h.settled();

    await h.prisma.lead.update({ where: { id: bad.id }, data: { email: "broken-address" } });
    await h.prisma.lead.update({ where: { id: good.id }, data: { phone: "+1 555 0177" } });
    await Promise.all([bad, good].map((l) => h.enqueueOutbound(l.id, { integrationId: integration.id, reason: "updated" })));

    const error = await eventually(async () => (await h.prisma.integrationError.findFirst({ where: { leadId: bad.id } })) ?? undefined, {
      what: "the error row",
    });
    expect(error).toMatchObject({ integrationId: integration.id, code: "outbound_failed" });
    expect(error.message).toMatch(/email/i);
    await eventually(async () => (await sandboxContact(portalId, goodLink.externalId))["phone"] === "+1 555 0177", { what: "the good lead's edit" });
    await h.settled();
    const failed = (await h.outbound.getFailed()).filter((j) => j.data.leadId === bad.id);
    expect(failed.map((j) => j.attemptsMade)).toEqual([1]);
    expect(readPushedFields((await linkOf(bad.id, integration.id))?.lastPushed)["email"]?.value).toBe("will-break@example.com");
  });
});

describe("edits on both sides", () => {
  it("a value the lead took from HubSpot is not pushed back when the platform then edits another field", async () => {
    const lead = await h.createPlatformLead({ email: "both-ways@example.com", firstName: "Bo", jobTitle: "Buyer" });
    const link = await pushAndLink(lead.id, h.integration.id);
    await h.settled();

    // A person edits the contact in HubSpot; the webhook brings the value to the lead.
    await h.updateContact(link.externalId, { firstname: "Bodil" });
    await eventually(async () => (await h.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } })).firstName === "Bodil", { what: "the inbound edit" });
    await h.settled();
    const before = await calls(h.portalId);

    await h.prisma.lead.update({ where: { id: lead.id }, data: { jobTitle: "Head of Buying" } });
    await h.enqueueOutbound(lead.id, { reason: "updated" });
    await eventually(async () => (await sandboxContact(h.portalId, link.externalId))["jobtitle"] === "Head of Buying", { what: "the platform edit" });
    await h.settled();
    expect(await calls(h.portalId)).toEqual({ ...before, update: before.update + 1 });
    const updates = h.logs.filter((l) => l["leadId"] === lead.id && String(l.msg).startsWith(`Lead ${lead.id} updated`));
    expect(updates.map((l) => l["properties"])).toEqual([["jobtitle"]]);
    expect(await h.prisma.lead.count({ where: { email: "both-ways@example.com" } })).toBe(1);
  });
});

describe("HubSpot answering 429 or 5xx", () => {
  it("a 429 on create delays the push without using an attempt; a 503 on update is retried; no error rows", async () => {
    // to_crm: no inbound reads that could take the injected faults instead of the outbound calls.
    const { portalId, integration } = await h.addIntegration({ syncDirection: "to_crm" }, "org-faults");
    const fault = (body: Record<string, unknown>) =>
      fetch(`${h.sandbox.url}/__sandbox/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ portalId, count: 1, ...body }) });
    const push = (leadId: string, reason: "created" | "updated") =>
      h.outbound.add("crm-outbound", { v: 1, integrationId: integration.id, leadId, reason, requestedAt: Date.now() }, { attempts: 2 });
    const lead = await h.createPlatformLead({ email: "throttled@example.com", firstName: "Slow" }, "org-faults");

    await fault({ kind: "rate_limit", retryAfterSeconds: 1 });
    const created = await push(lead.id, "created");
    await eventually(async () => (await created.isCompleted()) || undefined, { what: "the create job" });
    // Delayed, not failed: the one attempt it used is the one that succeeded.
    expect((await h.outbound.getJob(created.id as string))?.attemptsMade).toBe(1);
    expect((await h.stats(portalId)).throttled).toBe(1);
    const link = await linkOf(lead.id, integration.id);
    if (!link) throw new Error("the lead was not linked");

    await h.prisma.lead.update({ where: { id: lead.id }, data: { firstName: "Steady" } });
    await fault({ kind: "error", status: 503 });
    const updated = await push(lead.id, "updated");
    await eventually(async () => (await updated.isCompleted()) || undefined, { what: "the retried update", timeoutMs: 15_000 });
    expect((await h.outbound.getJob(updated.id as string))?.attemptsMade).toBe(2);
    expect((await sandboxContact(portalId, link.externalId))["firstname"]).toBe("Steady");
    expect(await h.prisma.integrationError.count({ where: { leadId: lead.id } })).toBe(0);
  });
});
