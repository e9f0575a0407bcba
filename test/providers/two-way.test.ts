import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerModule } from "../../packages/providers/src/index.js";
import { eventually, startProviderWorld, type ProviderWorld } from "./harness.js";
import { PROVIDER_KITS } from "./kits/index.js";

/**
 * The setup guide's three checks and the two-way rules, for every CRM beside HubSpot (whose own suite is test/e2e):
 * one suite, one pipeline, each provider's emulator answering like the real API.
 */
describe.each(PROVIDER_KITS)("$name: two-way sync through the one pipeline", (kit) => {
  let w: ProviderWorld;
  const email = (tag: string) => `${tag}-${kit.name}-${Date.now()}@example.com`;
  const leadByEmail = async (address: string) =>
    (await w.prisma.lead.findFirst({ where: { orgId: w.orgId, email: address }, include: { links: true } })) ?? undefined;

  beforeAll(async () => {
    w = await startProviderWorld(kit);
  }, 60_000);
  afterAll(async () => w?.close());

  it("guide test 1: a platform lead reaches the CRM marked as the platform's, and its echo creates no duplicate", async () => {
    const address = email("platform");
    const created = await w.api("POST", "/api/v1/leads", { email: address, firstName: "Pat", lastName: "Form", company: "Acme", jobTitle: "CTO" });
    expect(created.status).toBe(201);
    const [record] = await eventually(async () => {
      const found = await w.findRecords(address);
      return found.length > 0 && found;
    }, `the ${kit.name} record of the platform lead`);
    expect(record).toMatchObject({ email: address, firstName: "Pat", lastName: "Form", jobTitle: "CTO", marker: w.config.leadSourceMarker });
    const link = await eventually(async () => (await leadByEmail(address))?.links[0], "the lead's link");
    expect(link).toMatchObject({ provider: kit.name, externalId: record?.id });
    // The feed's echo of our create arrives and changes nothing: still one lead, one record.
    await eventually(async () => (await w.prisma.webhookEvent.count({ where: { integrationId: w.integrationId, objectId: record?.id ?? "" } })) > 0, "the echo of our create");
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email: address } })).toBe(1);
    expect(await w.findRecords(address)).toHaveLength(1);
    const lead = await leadByEmail(address);
    expect(lead?.source).toBe(w.config.leadSourceMarker);
  });

  it("guide test 2: a record a person creates in the CRM appears as a lead whose source is the CRM", async () => {
    const address = email("person");
    const id = await w.createRecord({ email: address, firstName: "Per", lastName: "Son", company: "Beta", jobTitle: "Buyer" });
    const lead = await eventually(() => leadByEmail(address), "the lead of the CRM record");
    expect(lead).toMatchObject({ email: address, firstName: "Per", lastName: "Son", source: kit.name });
    expect(lead.links.map((l) => l.externalId)).toEqual([id]);
    const json = await w.api<{ data: { source: string; crm: { provider: string; externalId: string }[] } }>("GET", `/api/v1/leads/${lead.id}`);
    expect(json.json.data.source).toBe(kit.name);
    expect(json.json.data.crm).toEqual([expect.objectContaining({ provider: kit.name, externalId: id })]);
  });

  it("guide test 3: a person's update in the CRM reaches the lead", async () => {
    const address = email("update");
    const id = await w.createRecord({ email: address, firstName: "Up", lastName: "Date", company: "Gamma" });
    await eventually(() => leadByEmail(address), "the lead");
    await w.updateRecord(id, { phone: "+1 555 0100", jobTitle: "VP Sales" });
    const lead = await eventually(async () => {
      const found = await leadByEmail(address);
      return found?.jobTitle === "VP Sales" && found;
    }, "the update on the lead");
    expect(lead.phone).toBe("+1 555 0100");
  });

  it("a record without an email is skipped and logged", async () => {
    const id = await w.createRecord({ firstName: "No", lastName: "Email", company: "Delta" });
    await eventually(async () => w.logs.some((l) => l.msg === "Skipping contact - no email address" && l["objectId"] === id), "the skip line");
    expect(await w.prisma.leadCrmLink.count({ where: { integrationId: w.integrationId, externalId: id } })).toBe(0);
  });

  it("a platform edit reaches the CRM; its echo is dropped; a person's edit afterwards is applied", async () => {
    const address = email("edit");
    const created = await w.api<{ data: { id: string } }>("POST", "/api/v1/leads", { email: address, firstName: "Ed", lastName: "It", company: "Eps" });
    const leadId = created.json.data.id;
    const link = await eventually(async () => (await leadByEmail(address))?.links[0], "the link");
    const echoesBefore = await w.prisma.webhookEvent.count({ where: { integrationId: w.integrationId, objectId: link.externalId } });
    await w.api("PATCH", `/api/v1/leads/${leadId}`, { jobTitle: "Head of Ops" });
    await eventually(async () => (await w.findRecords(address))[0]?.jobTitle === "Head of Ops", "the edit in the CRM");
    const callsAfterPush = (await w.stats()).calls.total;
    await eventually(
      async () => (await w.prisma.webhookEvent.count({ where: { integrationId: w.integrationId, objectId: link.externalId } })) > echoesBefore,
      "the echo of the edit",
    );
    const echo = await w.prisma.webhookEvent.findFirst({ where: { integrationId: w.integrationId, objectId: link.externalId }, orderBy: { id: "desc" } });
    if (kit.echoesNamedByFeed) {
      expect(echo).toMatchObject({ outcome: "skipped", reason: "echo" });
      // Dropped without reading the record: no API call since the push.
      expect((await w.stats()).calls.total).toBe(callsAfterPush);
    }
    expect((await w.prisma.lead.findUniqueOrThrow({ where: { id: leadId } })).jobTitle).toBe("Head of Ops");

    await w.updateRecord(link.externalId, { jobTitle: "COO" });
    await eventually(async () => (await w.prisma.lead.findUniqueOrThrow({ where: { id: leadId } })).jobTitle === "COO", "the person's edit on the lead");
  });

  it("counts the CRM's calls in /metrics, by provider and account", async () => {
    const row = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    const metrics = await (await fetch(`${w.config.apiUrl}/metrics`)).text();
    const calls = metrics
      .split("\n")
      .filter((line) => line.startsWith("leadsync_crm_calls_total{") && line.includes(`provider="${kit.name}"`) && line.includes(`account="${row.externalAccountId}"`));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.reduce((sum, line) => sum + Number(line.split(" ").pop()), 0)).toBeGreaterThan(0);
  });

  it("the integration shows the CRM's own field mapping and account", async () => {
    const got = await w.api<{ data: { provider: string; accountId: string; settings: { fieldMapping: Record<string, string> } } }>("GET", `/api/v1/crm-integration/${w.integrationId}`);
    const row = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    expect(got.json.data).toMatchObject({ provider: kit.name, accountId: row.externalAccountId });
    expect(got.json.data.settings.fieldMapping).toEqual({ ...providerModule(kit.name).defaultFieldMapping });
  });

  it("a record deleted in the CRM unlinks its lead (the lead is kept)", async () => {
    const address = email("delete");
    const id = await w.createRecord({ email: address, firstName: "Del", lastName: "Ete", company: "Zeta" });
    await eventually(async () => (await leadByEmail(address))?.links.length === 1, "the linked lead");
    await w.deleteRecord(id);
    await eventually(async () => (await leadByEmail(address))?.links.length === 0, "the unlink");
    expect(await leadByEmail(address)).toBeDefined();
  });
});
