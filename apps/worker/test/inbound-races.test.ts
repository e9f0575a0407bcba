import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, hubspotEvent, startHarness, type Harness } from "../../../test/e2e/harness.js";
import { applyContactSnapshots } from "../src/inbound/apply-snapshots.js";
import { createIntegrationDirectory } from "../src/integrations.js";
import { capturingLogger } from "./helpers/log-capture.js";

// Inbound batches (and backfill or reconciliation snapshots) that meet another writer on the same lead: the platform
// creating a lead with the contact's email while the batch runs, or two batches of one portal (no shared contact, so
// they run side by side) sharing an email.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ receiver: false });
});
afterAll(async () => h?.close());

/**
 * The platform's own insert of a lead with `email`, left uncommitted: a batch that decides to create that lead waits on
 * the unique (org, email) index until `commit()`, then loses the race.
 */
async function uncommittedPlatformLead(email: string) {
  const formOwner = await h.createPlatformLead({ email: `form-owner-${email}` });
  const { formId } = await h.prisma.lead.findUniqueOrThrow({ where: { id: formOwner.id }, select: { formId: true } });
  const platform = new pg.Client({ connectionString: h.config.databaseUrl });
  await platform.connect();
  await platform.query("BEGIN");
  await platform.query(
    `INSERT INTO leads (id, org_id, form_id, email, first_name, source, updated_at)
     VALUES (gen_random_uuid(), $1, $2::uuid, $3, 'Platform', $4, now())`,
    [h.orgId, formId, email, h.config.leadSourceMarker],
  );
  return {
    /** Waits until another transaction is blocked on this one. */
    waitForWaiter: (what: string) =>
      eventually(
        async () =>
          (await platform.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'transactionid'")).rows[0].n > 0,
        { what },
      ),
    commit: () => platform.query("COMMIT"),
    end: () => platform.end(),
  };
}

async function expectOneLinkedLead(email: string, contactId: string) {
  const leads = await h.prisma.lead.findMany({ where: { orgId: h.orgId, email }, include: { links: true } });
  expect(leads).toHaveLength(1);
  expect(leads[0]?.links.map((l) => l.externalId)).toEqual([contactId]);
}

describe("an inbound batch racing another writer on the same email", () => {
  it("is applied again at once when a lead with its contact's email was committed meanwhile: linked, no failure, no error row", async () => {
    const [contactId] = await h.createContacts([{ email: "race@example.com", firstname: "Racer" }]);
    const platform = await uncommittedPlatformLead("race@example.com");
    try {
      const job = await h.events.add(
        "crm-changes",
        { v: 1, provider: "hubspot", receivedAt: Date.now(), events: [hubspotEvent({ portalId: h.portalId, objectId: contactId as string, subscriptionType: "contact.creation" })] },
        { attempts: 1 },
      );
      await platform.waitForWaiter("the batch waiting on the platform's insert");
      await platform.commit();

      await eventually(async () => (await job.isCompleted()) || undefined, { what: "job completion" });
      await expectOneLinkedLead("race@example.com", contactId as string);
      expect(await h.prisma.integrationError.count({ where: { integrationId: h.integration.id, externalId: contactId as string } })).toBe(0);
      expect(h.logs.some((l) => l.level >= 50 && l.msg.startsWith("Failed to handle contact creation"))).toBe(false);
      expect(h.logs.some((l) => l.msg === "Batch lost a race to a concurrent write - applying it again")).toBe(true);
    } finally {
      await platform.end();
    }
  });

  it("a backfill or reconciliation snapshot is applied again at once when a lead with its email was committed meanwhile", async () => {
    const [contactId] = await h.createContacts([{ email: "snapshot-race@example.com", firstname: "Snap" }]);
    const { logger, lines } = capturingLogger();
    const directory = createIntegrationDirectory({ config: h.config, prisma: h.prisma, connection: h.connection, logger });
    const integration = await directory.findByAccount("hubspot", String(h.portalId));
    if (!integration) throw new Error("no integration");

    const platform = await uncommittedPlatformLead("snapshot-race@example.com");
    try {
      const applying = applyContactSnapshots(
        { config: h.config, prisma: h.prisma, logger, directory },
        integration,
        [{ id: contactId as string, properties: { email: "snapshot-race@example.com", firstname: "Snap" }, updatedAt: Date.now() }],
        { origin: "reconcile" },
      );
      await platform.waitForWaiter("the snapshot waiting on the platform's insert");
      await platform.commit();

      // Before: the transaction failed on leads_org_id_email_key and the reconcile job with it (an error line).
      const result = await applying;
      expect(result.created).toBe(0);
      await expectOneLinkedLead("snapshot-race@example.com", contactId as string);
      expect(lines.some((l) => l.msg === "Batch lost a race to a concurrent write - applying it again")).toBe(true);
    } finally {
      await platform.end();
    }
  });
});
