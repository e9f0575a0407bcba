import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFLICT_RULES, decryptToken, type ConflictRule } from "../../packages/core/src/index.js";
import { eventually, startHarness, type Harness } from "./harness.js";
import { startPlatformApi, type PlatformApi } from "./two-way-api.js";

// Issue 6: per-field conflict rules and per-integration field mapping, through the whole pipeline.

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

const lead = (id: string) => h.prisma.lead.findUniqueOrThrow({ where: { id } });

/** A portal of its own with the given settings; auto-sync off, so platform edits stay unpushed (a real conflict). */
async function portalWith(settings: Record<string, unknown>, overrides: { autoSyncEnabled?: boolean } = {}) {
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  const { portalId, integration } = await h.addIntegration({ settings, autoSyncEnabled: false, ...overrides }, orgId);
  return { orgId, portalId, integration };
}

/** A contact a person created in HubSpot, and the lead it became. */
async function personContact(portalId: number, properties: Record<string, string>) {
  const [contactId] = await h.createContacts([properties], portalId);
  const link = await eventually(async () => (await h.prisma.leadCrmLink.findFirst({ where: { externalId: contactId as string } })) ?? undefined, { what: "the lead" });
  await h.settled();
  return { contactId: contactId as string, leadId: link.leadId };
}

async function processed(contactId: string, propertyName: string) {
  await eventually(async () => (await h.prisma.webhookEvent.findFirst({ where: { objectId: contactId, propertyName } })) ?? undefined, { what: `the ${propertyName} event` });
  await h.settled();
}

describe("conflict rules: both sides changed a field since the last sync", () => {
  const expected: Record<ConflictRule, { crmLater: string; crmEarlier: string }> = {
    latest_wins: { crmLater: "Crm", crmEarlier: "Platform" },
    prefer_platform: { crmLater: "Platform", crmEarlier: "Platform" },
    prefer_crm: { crmLater: "Crm", crmEarlier: "Crm" },
  };

  for (const rule of CONFLICT_RULES) {
    it(`${rule}: the HubSpot edit made after / before the platform's keeps ${expected[rule].crmLater} / ${expected[rule].crmEarlier}`, async () => {
      const { orgId, portalId } = await portalWith({ conflictRule: rule });
      const { contactId, leadId } = await personContact(portalId, { email: `${rule}@example.com`, firstname: "Orig", lastname: "Orig" });

      // The platform edits first, then a person edits the same field in HubSpot.
      expect((await api.call(orgId, "PATCH", `/api/v1/leads/${leadId}`, { firstName: "Platform" })).status).toBe(200);
      await h.updateContact(contactId, { firstname: "Crm" }, portalId);
      await processed(contactId, "firstname");
      expect((await lead(leadId)).firstName).toBe(expected[rule].crmLater);

      // A person edits first, but the webhook is applied only after the platform's (later) edit.
      await h.events.pause();
      try {
        await h.updateContact(contactId, { lastname: "Crm" }, portalId);
        await h.sandbox.webhooksIdle();
        expect((await api.call(orgId, "PATCH", `/api/v1/leads/${leadId}`, { lastName: "Platform" })).status).toBe(200);
      } finally {
        await h.events.resume();
      }
      await processed(contactId, "lastname");
      expect((await lead(leadId)).lastName).toBe(expected[rule].crmEarlier);

      const conflicts = h.logs.filter((l) => typeof l.msg === "string" && l.msg.startsWith("Conflict on") && l["leadId"] === leadId);
      expect(conflicts.length).toBeGreaterThan(0);
      for (const line of conflicts) {
        expect(line).toMatchObject({ rule, crmChangedAt: expect.any(Number), platformChangedAt: expect.any(Number) });
        expect(JSON.stringify(line)).not.toMatch(/"(Crm|Platform)"/); // no values at info level
      }
    });
  }

  it("per field: pulling another field in between does not hide the platform's pending edit (prefer_platform)", async () => {
    const { orgId, portalId } = await portalWith({ conflictRule: "prefer_platform" });
    const { contactId, leadId } = await personContact(portalId, { email: "per-field@example.com", firstname: "Orig", company: "Orig" });
    expect((await api.call(orgId, "PATCH", `/api/v1/leads/${leadId}`, { firstName: "Platform" })).status).toBe(200);
    await h.updateContact(contactId, { company: "Pulled" }, portalId);
    await eventually(async () => (await lead(leadId)).company === "Pulled", { what: "the other field pulled" });
    await h.updateContact(contactId, { firstname: "Crm" }, portalId);
    await processed(contactId, "firstname");
    expect(await lead(leadId)).toMatchObject({ firstName: "Platform", company: "Pulled" });
  });

  it("without a platform change since the last sync, the HubSpot edit simply applies (prefer_platform)", async () => {
    const { portalId } = await portalWith({ conflictRule: "prefer_platform" });
    const { contactId, leadId } = await personContact(portalId, { email: "no-conflict@example.com", firstname: "Orig" });
    await h.updateContact(contactId, { firstname: "Changed" }, portalId);
    await processed(contactId, "firstname");
    expect((await lead(leadId)).firstName).toBe("Changed");
  });
});

describe("field mapping per integration", () => {
  it("is checked against the portal's properties when saved, drives the subscriptions and the inbound mapping", async () => {
    const { orgId, portalId, integration } = await portalWith({}, { autoSyncEnabled: true });
    const path = `/api/v1/crm-integration/${integration.id}`;
    // A custom property, created as an admin would in the portal.
    const created = await fetch(`${h.sandbox.url}/crm/v3/properties/contacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${decryptToken(integration.accessTokenEnc ?? "", h.config.encryptionKey)}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "job_function", label: "Job function", type: "string", fieldType: "text", groupName: "contactinformation" }),
    });
    expect(created.status).toBe(201);

    const unknown = await api.call(orgId, "PATCH", path, { settings: { fieldMapping: { jobTitle: "no_such_property" } } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: "unknown_property", message: expect.stringContaining("no_such_property") });
    const twice = await api.call(orgId, "PATCH", path, { settings: { fieldMapping: { company: "phone" } } });
    expect([twice.status, twice.body.error?.code]).toEqual([400, "invalid_field_mapping"]);

    const saved = await api.call(orgId, "PATCH", path, { settings: { fieldMapping: { jobTitle: "job_function" } } });
    expect(saved.status).toBe(200);
    expect(saved.body.data.settings.fieldMapping).toMatchObject({ jobTitle: "job_function", firstName: "firstname" });

    const enabled = await api.call(orgId, "POST", `${path}/enable-webhooks`, { webhookUrl: h.webhookUrl });
    expect(enabled.status).toBe(200);
    const subscriptions = enabled.body.data.subscriptions as { eventType: string; propertyName?: string }[];
    const watched = subscriptions.filter((s) => s.eventType === "contact.propertyChange").map((s) => s.propertyName);
    expect(watched).toContain("job_function");
    expect(watched).not.toContain("jobtitle");
    expect(subscriptions.map((s) => s.eventType)).toEqual(expect.arrayContaining(["contact.merge", "contact.restore", "contact.privacyDeletion"]));

    const { contactId, leadId } = await personContact(portalId, { email: "mapped@example.com", job_function: "Buyer", jobtitle: "Not this" });
    expect((await lead(leadId)).jobTitle).toBe("Buyer");
    await h.updateContact(contactId, { job_function: "Chief Buyer" }, portalId);
    await eventually(async () => (await lead(leadId)).jobTitle === "Chief Buyer", { what: "the mapped property on the lead" });

    // The unmapped default property is no longer a lead field: its change needs no read and changes nothing.
    await h.updateContact(contactId, { jobtitle: "Still not this" }, portalId);
    const skipped = await eventually(
      async () => (await h.prisma.webhookEvent.findFirst({ where: { objectId: contactId, propertyName: "jobtitle", occurredAt: { gt: new Date(Date.now() - 60_000) }, reason: "unmapped_property" } })) ?? undefined,
      { what: "the unmapped change" },
    );
    expect(skipped.outcome).toBe("skipped");
    await h.settled();
    expect((await lead(leadId)).jobTitle).toBe("Chief Buyer");
  });
});
