import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptToken } from "../../packages/core/src/index.js";
import { eventually, startProviderWorld, type ProviderWorld } from "./harness.js";
import { zohoKit } from "./kits/zoho.js";

/**
 * Zoho's callback names no actor and `Modified_Time` has one-second resolution (issue 11, "Echoes without an
 * actor"): when our push and a person's edit of another field of the same record land within one second, the read
 * after the callback shows both. The platform's value must stay in the CRM and the person's must reach the lead —
 * also when the person works as the integration's own Zoho user (same `Modified_By`).
 */
describe("zoho: our push and a person's edit within one second both end up right", () => {
  let w: ProviderWorld;
  const leadOf = (id: string) => w.prisma.lead.findUniqueOrThrow({ where: { id } });

  beforeAll(async () => {
    w = await startProviderWorld(zohoKit);
  }, 60_000);
  afterAll(async () => w?.close());

  /** A platform lead already in Zoho and linked; returns its lead id and record id. */
  async function linkedLead(tag: string) {
    const email = `${tag}-${Date.now()}@example.com`;
    const created = await w.api<{ data: { id: string } }>("POST", "/api/v1/leads", { email, firstName: "Echo", lastName: "Test", company: "Acme", jobTitle: "Start" });
    expect(created.status).toBe(201);
    const link = await eventually(async () => (await w.prisma.leadCrmLink.findFirst({ where: { leadId: created.json.data.id } })) ?? undefined, "the link");
    // Let the echo of the create settle, so only the edits below are in flight.
    await eventually(async () => (await w.prisma.webhookEvent.count({ where: { integrationId: w.integrationId, objectId: link.externalId } })) > 0, "the create's echo");
    return { email, leadId: created.json.data.id, recordId: link.externalId };
  }

  /** Polls the CRM every few ms until the pushed value is there, and returns when it saw it. */
  async function whenInCrm(email: string, jobTitle: string) {
    await eventually(async () => (await w.findRecords(email))[0]?.jobTitle === jobTitle, `${jobTitle} in Zoho`, 15_000);
    return Date.now();
  }

  /** Both ends settled: the CRM holds both values, and so does the lead. */
  async function expectBothRight(email: string, leadId: string, values: { jobTitle: string; phone: string }) {
    const lead = await eventually(async () => {
      const current = await leadOf(leadId);
      return current.phone === values.phone && current;
    }, "the person's phone on the lead");
    expect(lead.jobTitle).toBe(values.jobTitle);
    // Later callbacks (the echo of anything pushed) must not undo either side.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await leadOf(leadId)).toMatchObject(values);
    const [record] = await w.findRecords(email);
    expect(record).toMatchObject(values);
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email } })).toBe(1);
    expect(await w.findRecords(email)).toHaveLength(1);
  }

  it("our push lands, and a person edits another field in Zoho's UI in the same second", async () => {
    const { email, leadId, recordId } = await linkedLead("push-then-person");
    const patched = await w.api("PATCH", `/api/v1/leads/${leadId}`, { jobTitle: "Pushed Title" });
    expect(patched.status).toBe(200);
    const landed = await whenInCrm(email, "Pushed Title");
    await w.updateRecord(recordId, { phone: "+1 555 0101" });
    expect(Date.now() - landed).toBeLessThan(1_000);
    await expectBothRight(email, leadId, { jobTitle: "Pushed Title", phone: "+1 555 0101" });
  });

  it("a person edits in Zoho's UI, and our push of another field follows within the second", async () => {
    const { email, leadId, recordId } = await linkedLead("person-then-push");
    const edited = Date.now();
    await w.updateRecord(recordId, { phone: "+1 555 0102" });
    const patched = await w.api("PATCH", `/api/v1/leads/${leadId}`, { jobTitle: "Pushed After" });
    expect(patched.status).toBe(200);
    await whenInCrm(email, "Pushed After");
    expect(Date.now() - edited).toBeLessThan(1_000);
    await expectBothRight(email, leadId, { jobTitle: "Pushed After", phone: "+1 555 0102" });
  });

  it("the person works as the integration's own Zoho user (same Modified_By): the ledger still tells the edits apart", async () => {
    const { email, leadId, recordId } = await linkedLead("same-user");
    const patched = await w.api("PATCH", `/api/v1/leads/${leadId}`, { jobTitle: "Pushed Same User" });
    expect(patched.status).toBe(200);
    const landed = await whenInCrm(email, "Pushed Same User");
    // The edit goes through Zoho's API with the integration's own OAuth user, as a person logged in as that user would.
    const row = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    const token = decryptToken(row.accessTokenEnc ?? "", w.config.encryptionKey);
    const apiDomain = (row.settings as { provider: { apiDomain: string } }).provider.apiDomain;
    const response = await fetch(`${apiDomain}/crm/v8/Leads/${recordId}`, {
      method: "PUT",
      headers: { authorization: `Zoho-oauthtoken ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ data: [{ Phone: "+1 555 0103" }] }),
    });
    expect(response.status).toBe(200);
    expect(Date.now() - landed).toBeLessThan(1_000);
    const [record] = await w.findRecords(email);
    expect(record?.phone).toBe("+1 555 0103");
    await expectBothRight(email, leadId, { jobTitle: "Pushed Same User", phone: "+1 555 0103" });
  });
});
