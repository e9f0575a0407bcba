import { toRecordChange } from "@leadsync/hubspot";
import { hubspotEventSchema } from "@leadsync/core";
import { createExplainingPrisma, createTestDatabase, planNodes, sharedBuffers, type TestDatabase } from "@leadsync/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimEvents, countReceived, eventRows } from "../src/inbound/event-claims.js";
import { createLeadsWithLinks, lockLeadsOfContacts, lockLeadsQuery, updateLeads } from "../src/inbound/lead-store.js";
import type { InboundItem } from "../src/inbound/types.js";
import { saveLinks } from "../src/outbound/links.js";

// The worker's raw SQL (unnest batches, ON CONFLICT claims) against a real migrated database.

let db: TestDatabase;
let integrationId: string;
let formId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const integration = await db.prisma.crmIntegration.create({ data: { orgId: "org-sql", provider: "hubspot", externalAccountId: "777" } });
  integrationId = integration.id;
  formId = (await db.prisma.form.create({ data: { orgId: "org-sql", name: "CRM Import", isCrmImport: true } })).id;
});
afterAll(async () => db?.drop());

function item(objectId: number, eventId: number, attemptNumber = 0): InboundItem {
  const event = hubspotEventSchema.parse({
    eventId,
    portalId: 777,
    occurredAt: 1_700_000_000_000 + eventId,
    subscriptionType: "contact.creation",
    attemptNumber,
    objectId,
  });
  return { change: toRecordChange(event, undefined), receivedAt: Date.now(), jobId: "job" };
}

describe("event claims", () => {
  it("claims each event once: a redelivery (attemptNumber bumped) is not claimed again", async () => {
    const processed = () => ({ outcome: "processed" as const, reason: null });
    const first = eventRows([item(1, 10), item(2, 11), item(1, 10)], processed);
    expect(first).toHaveLength(2);
    const claimed = await db.prisma.$transaction((tx) => claimEvents(tx, { integrationId, provider: "hubspot", accountId: "777" }, first));
    expect(claimed.size).toBe(2);

    const again = eventRows([item(1, 10, 1), item(3, 12, 1)], processed);
    const reclaimed = await db.prisma.$transaction(async (tx) => {
      const keys = await claimEvents(tx, { integrationId, provider: "hubspot", accountId: "777" }, again);
      await countReceived(tx, integrationId, again.filter((r) => keys.has(r.dedupeKey)));
      return keys;
    });
    expect([...reclaimed]).toEqual([again[1]?.dedupeKey]);
    const integration = await db.prisma.crmIntegration.findUniqueOrThrow({ where: { id: integrationId } });
    expect(integration.webhookTotalReceived).toBe(1n);
    expect(integration.webhookLastReceivedAt).not.toBeNull();
    expect(await db.prisma.webhookEvent.count()).toBe(3);
  });
});

describe("lead batch writes", () => {
  it("creates leads with links, locks them by contact or email with their links, updates many in one statement", async () => {
    const ids = await db.prisma.$transaction((tx) =>
      createLeadsWithLinks(tx, { orgId: "org-sql", formId, integrationId }, [
        {
          fields: { email: "a@example.com", firstName: "Ann", phone: null },
          fieldVersions: { email: 5 },
          externalId: "101",
          pulled: { email: { value: "a@example.com", at: 5 } },
        },
        { fields: { email: "b@example.com", lastName: "Bo" }, fieldVersions: {}, externalId: "102" },
      ]),
    );
    const a = ids.get("101") as string;
    const rows = await db.prisma.$transaction((tx) => lockLeadsOfContacts(tx, { orgId: "org-sql", integrationId }, ["101"], ["b@example.com"]));
    const locked = rows.map((r) => r.lead);
    expect(locked.map((l) => l.email).sort()).toEqual(["a@example.com", "b@example.com"]);
    expect(locked.find((l) => l.id === a)?.fieldVersions).toEqual({ email: 5 });
    const linkOfA = rows.find((r) => r.lead.id === a)?.link;
    expect([linkOfA?.externalId, linkOfA?.lastPushed, linkOfA?.propertySyncedAt]).toEqual(["101", { email: "a@example.com" }, { email: 5 }]);
    expect(linkOfA?.lastSyncedAt).toBeGreaterThan(0);
    expect(rows.find((r) => r.lead.id !== a)?.link?.externalId).toBe("102");

    await db.prisma.$transaction((tx) =>
      updateLeads(
        tx,
        locked.map((l) => ({ ...l, jobTitle: `title of ${l.email}`, phone: null, fieldVersions: { jobTitle: 9 } })),
      ),
    );
    const leads = await db.prisma.lead.findMany({ orderBy: { email: "asc" }, include: { links: true } });
    expect(leads.map((l) => [l.jobTitle, l.source, l.links[0]?.externalId, l.fieldVersions])).toEqual([
      ["title of a@example.com", "hubspot", "101", { jobTitle: 9 }],
      ["title of b@example.com", "hubspot", "102", { jobTitle: 9 }],
    ]);
  });

  it("saveLinks upserts on (lead, integration) and records what was pushed", async () => {
    const lead = await db.prisma.lead.create({ data: { orgId: "org-sql", formId, email: "c@example.com", source: "jazzaam" } });
    const pushed = (value: string, at: number) => ({ value, at });
    await saveLinks(db.prisma, integrationId, [{ leadId: lead.id, externalId: "201", lastPushed: { email: pushed("c@example.com", 1) } }]);
    await saveLinks(db.prisma, integrationId, [{ leadId: lead.id, externalId: "202", lastPushed: { lead_source_system: pushed("jazzaam", 2) } }]);
    const links = await db.prisma.leadCrmLink.findMany({ where: { leadId: lead.id } });
    expect(links.map((l) => [l.externalId, l.lastPushed])).toEqual([["202", { lead_source_system: pushed("jazzaam", 2) }]]);
    // The same contact again: merged per property, the newer push wins.
    await saveLinks(db.prisma, integrationId, [{ leadId: lead.id, externalId: "202", lastPushed: { phone: pushed("+1", 3) } }]);
    const merged = await db.prisma.leadCrmLink.findFirstOrThrow({ where: { leadId: lead.id } });
    expect(merged.lastPushed).toEqual({ lead_source_system: pushed("jazzaam", 2), phone: pushed("+1", 3) });
  });
});

describe("the lock read of a batch's leads", () => {
  it("finds leads by email through the (org, email) index, not by filtering every lead of the org", async () => {
    // A large org: with an OR between "linked to these contacts" and "has one of these emails", Postgres can only
    // filter a scan of all the org's leads, so every batch cost grew with the org's size.
    await db.prisma.$executeRaw`
      INSERT INTO leads (id, org_id, form_id, email, source, updated_at)
      SELECT gen_random_uuid(), 'org-big', ${formId}::uuid, 'big-' || g || '@example.com', 'hubspot', now() FROM generate_series(1, 20000) AS g`;
    await db.prisma.$executeRaw`ANALYZE leads`;
    const contactIds = Array.from({ length: 100 }, (_, i) => String(900_000 + i));
    const emails = Array.from({ length: 100 }, (_, i) => `big-${i * 7 + 1}@example.com`);
    const query = lockLeadsQuery({ orgId: "org-big", integrationId }, contactIds, emails);
    const [plan] = await db.prisma.$queryRawUnsafe<{ "QUERY PLAN": unknown }[]>(`EXPLAIN (FORMAT JSON) ${query.text}`, ...query.values);
    const text = JSON.stringify(plan?.["QUERY PLAN"]);
    expect(text).toContain('"Index Name":"leads_org_id_email_key"');

    const locked = await db.prisma.$transaction((tx) => lockLeadsOfContacts(tx, { orgId: "org-big", integrationId }, contactIds, emails));
    expect(locked.map((l) => l.lead.email).sort()).toEqual([...emails].sort());
  });

  it("stays index lookups for an org the table's statistics do not know yet (its first backfill on a big table)", async () => {
    // Analysed with org-big only; org-new's leads and links arrive after, too few for autovacuum to analyse again.
    await db.prisma.$executeRaw`ANALYZE leads`;
    await db.prisma.$executeRaw`ANALYZE lead_crm_links`;
    const fresh = await db.prisma.crmIntegration.create({ data: { orgId: "org-new", provider: "hubspot", externalAccountId: "778" } });
    const freshForm = (await db.prisma.form.create({ data: { orgId: "org-new", name: "CRM Import", isCrmImport: true } })).id;
    await db.prisma.$executeRaw`
      WITH new_leads AS (
        INSERT INTO leads (id, org_id, form_id, email, source, updated_at)
        SELECT gen_random_uuid(), 'org-new', ${freshForm}::uuid, 'new-' || g || '@example.com', 'hubspot', now() FROM generate_series(1, 3000) AS g
        RETURNING id, email)
      INSERT INTO lead_crm_links (id, lead_id, integration_id, provider, external_id, updated_at)
      SELECT gen_random_uuid(), id, ${fresh.id}::uuid, 'hubspot', 'c-' || email, now() FROM new_leads`;
    const contactIds = Array.from({ length: 100 }, (_, i) => `c-new-${i * 30 + 1}@example.com`);
    const emails = Array.from({ length: 100 }, (_, i) => `new-${i * 30 + 2}@example.com`);

    const explaining = createExplainingPrisma(db.url);
    try {
      const locked = await explaining.prisma.$transaction((tx) => lockLeadsOfContacts(tx, { orgId: "org-new", integrationId: fresh.id }, contactIds, emails));
      expect(locked).toHaveLength(200);
      const lock = explaining.take().find((p) => /FOR UPDATE/.test(p.query));
      if (!lock) throw new Error("the lock statement was not explained");
      // 200 keys, an index lookup and a row lock each (~12 pages); the org-wide plan read every lead of org-new for
      // every one of them, and ran past the transaction's 5 s.
      expect(sharedBuffers(lock.plan)).toBeLessThan(20 * 200);
      const usedIndexes = planNodes(lock.plan).flatMap((n) => (n["Index Name"] ? [n["Index Name"]] : []));
      expect(usedIndexes).toEqual(expect.arrayContaining(["lead_crm_links_integration_id_external_id_key", "leads_org_id_email_key"]));
    } finally {
      await explaining.close();
    }
  });
});
