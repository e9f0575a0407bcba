import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_READ, eventually, startHarness, type Harness } from "./harness.js";
import { startPlatformApi, type PlatformApi } from "./two-way-api.js";

// Issue 6, edits both ways through the whole pipeline: platform API → outbound → sandbox → signed webhooks →
// receiver → inbound worker, and a person's edits in the sandbox's "UI".

let h: Harness;
let api: PlatformApi;
beforeAll(async () => {
  h = await startHarness();
  api = await startPlatformApi(h);
});
afterAll(async () => {
  await api?.close();
  await h?.close();
});

const BATCH_UPDATE = "POST /crm/v3/objects/contacts/batch/update";

async function platformLead(email: string, fields: Record<string, string> = {}) {
  const created = await api.call(h.orgId, "POST", "/api/v1/leads", { email, ...fields });
  expect(created.status).toBe(201);
  const leadId = created.body.data.id as string;
  const link = await eventually(async () => (await h.prisma.leadCrmLink.findFirst({ where: { leadId } })) ?? undefined, { what: "the push's link" });
  await h.settled();
  return { leadId, contactId: link.externalId };
}

const lead = (id: string) => h.prisma.lead.findUniqueOrThrow({ where: { id } });
const eventsOf = (contactId: string) => h.prisma.webhookEvent.findMany({ where: { objectId: contactId }, orderBy: { id: "asc" } });

describe("edits both ways", () => {
  it("a person's edit in HubSpot to a contact our platform created reaches the lead", async () => {
    const { leadId, contactId } = await platformLead("made-here@example.com", { firstName: "Made" });
    expect((await h.getContact(contactId)).properties["lead_source_system"]).toBe(h.config.leadSourceMarker);

    await h.updateContact(contactId, { jobtitle: "Head of Sales", firstname: "Madeleine" });
    await eventually(async () => (await lead(leadId)).jobTitle === "Head of Sales", { what: "the person's edit on the lead" });
    expect(await lead(leadId)).toMatchObject({ firstName: "Madeleine", source: h.config.leadSourceMarker });
  });

  it("a platform PATCH reaches HubSpot; its propertyChange echo is dropped without a read and counted", async () => {
    const { leadId, contactId } = await platformLead("patched@example.com", { firstName: "Pat" });
    const before = await h.stats();

    const patched = await api.call(h.orgId, "PATCH", `/api/v1/leads/${leadId}`, { firstName: "Patricia" });
    expect(patched.status).toBe(200);
    await eventually(async () => (await h.getContact(contactId)).properties["firstname"] === "Patricia", { what: "the PATCH in HubSpot" });
    const echo = await eventually(
      async () => (await eventsOf(contactId)).find((e) => e.subscriptionType === "contact.propertyChange" && e.propertyName === "firstname"),
      { what: "the echo" },
    );
    await h.settled();
    expect([echo.outcome, echo.reason]).toEqual(["skipped", "echo"]);
    const after = await h.stats();
    expect((after.calls.byEndpoint[BATCH_READ] ?? 0) - (before.calls.byEndpoint[BATCH_READ] ?? 0)).toBe(0);
    expect(await lead(leadId)).toMatchObject({ firstName: "Patricia" });
    expect(h.logs.some((l) => l.msg === "Dropped 1 echo(es) of our own writes")).toBe(true);
  });

  it("editing both sides repeatedly settles: every edit costs exactly its own calls and events, nothing bounces", async () => {
    const { leadId, contactId } = await platformLead("pingpong@example.com", { firstName: "Ping", company: "Start" });
    const before = await h.stats();
    const eventsBefore = (await eventsOf(contactId)).length;
    const ROUNDS = 4;
    for (let round = 1; round <= ROUNDS; round++) {
      // The platform changes the first name; a person then changes the company in HubSpot.
      await api.call(h.orgId, "PATCH", `/api/v1/leads/${leadId}`, { firstName: `Ping ${round}` });
      await eventually(async () => (await h.getContact(contactId)).properties["firstname"] === `Ping ${round}`, { what: `round ${round} pushed` });
      await h.settled();
      await h.updateContact(contactId, { company: `Company ${round}` });
      await eventually(async () => (await lead(leadId)).company === `Company ${round}`, { what: `round ${round} pulled` });
      await h.settled();
    }
    const after = await h.stats();
    const calls = (endpoint: string) => (after.calls.byEndpoint[endpoint] ?? 0) - (before.calls.byEndpoint[endpoint] ?? 0);
    const events = (await eventsOf(contactId)).slice(eventsBefore);
    // Per round: one batch update (our push) + its echo event (no read), and the person's event + one batch read.
    expect(calls(BATCH_UPDATE)).toBe(ROUNDS);
    expect(calls(BATCH_READ)).toBe(ROUNDS);
    expect(after.calls.total - before.calls.total).toBe(2 * ROUNDS);
    expect(after.webhooks.delivered - before.webhooks.delivered).toBe(2 * ROUNDS);
    expect(events.map((e) => `${e.propertyName}:${e.reason ?? e.outcome}`)).toEqual(
      Array.from({ length: ROUNDS }, () => ["firstname:echo", "company:processed"]).flat(),
    );
    // Settled: nothing more happens once the edits stop (the queues are idle and no webhook is pending).
    await h.settled();
    const still = await h.stats();
    expect([still.calls.total, still.webhooks.delivered]).toEqual([after.calls.total, after.webhooks.delivered]);
    expect(await lead(leadId)).toMatchObject({ firstName: `Ping ${ROUNDS}`, company: `Company ${ROUNDS}` });
    expect((await h.getContact(contactId)).properties).toMatchObject({ firstname: `Ping ${ROUNDS}`, company: `Company ${ROUNDS}` });
  });
});
