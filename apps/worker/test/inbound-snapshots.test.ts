import { createIntegrationDirectory } from "../src/integrations.js";
import type { CrmContact } from "@leadsync/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../../../test/e2e/harness.js";
import { applyContactSnapshots } from "../src/index.js";
import { capturingLogger } from "./helpers/log-capture.js";

// applyContactSnapshots (backfill, reconciliation): fetched contacts under the webhook path's rules.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ receiver: false });
});
afterAll(async () => h?.close());

const { logger } = capturingLogger();
const deps = () => ({
  config: h.config,
  prisma: h.prisma,
  logger,
  directory: createIntegrationDirectory({ config: h.config, prisma: h.prisma, connection: h.connection, logger }),
});

function contact(id: string, properties: Record<string, string | null>, updatedAt = Date.now()): CrmContact {
  return { id, properties, updatedAt };
}

describe("applyContactSnapshots", () => {
  it("creates, skips and is idempotent; writes no webhook_events", async () => {
    const t = Date.now();
    const contacts = [
      contact("9001", { email: "snap1@example.com", firstname: "Snap" }, t),
      contact("9002", { email: "snap2@example.com" }, t),
      contact("9003", { firstname: "No email" }, t),
      contact("9004", { email: "SNAP2@example.com" }, t), // the same email as 9002 in one call
    ];
    const first = await applyContactSnapshots(deps(), h.integration, contacts, { origin: "backfill" });
    expect(first).toEqual({ created: 2, updated: 0, linked: 0, skipped: { no_email: 1, duplicate_email: 1 } });
    const lead = await h.prisma.lead.findFirstOrThrow({ where: { orgId: h.orgId, email: "snap1@example.com" }, include: { links: true } });
    expect(lead).toMatchObject({ firstName: "Snap", source: "hubspot" });
    expect(lead.links.map((l) => l.externalId)).toEqual(["9001"]);

    const again = await applyContactSnapshots(deps(), h.integration, contacts, { origin: "reconcile" });
    expect(again).toMatchObject({ created: 0, updated: 0, linked: 0 });
    expect(await h.prisma.lead.count({ where: { orgId: h.orgId, email: { startsWith: "snap" } } })).toBe(2);
    expect(await h.prisma.webhookEvent.count()).toBe(0);
  });

  it("a newer snapshot updates the linked lead; an older one does not", async () => {
    const t = Date.now();
    await applyContactSnapshots(deps(), h.integration, [contact("9101", { email: "order@example.com", firstname: "New" }, t)], { origin: "reconcile" });
    const older = await applyContactSnapshots(deps(), h.integration, [contact("9101", { email: "order@example.com", firstname: "Old" }, t - 1000)], { origin: "reconcile" });
    expect(older.updated).toBe(0);
    const newer = await applyContactSnapshots(deps(), h.integration, [contact("9101", { email: "order@example.com", firstname: "Newer" }, t + 1000)], { origin: "reconcile" });
    expect(newer.updated).toBe(1);
    expect(await h.prisma.lead.findFirstOrThrow({ where: { orgId: h.orgId, email: "order@example.com" } })).toMatchObject({ firstName: "Newer" });
  });

  it("a contact our platform created links to its lead instead of creating one", async () => {
    const lead = await h.createPlatformLead({ email: "ours@example.com", firstName: "Ours" });
    const result = await applyContactSnapshots(
      deps(),
      h.integration,
      [contact("9201", { email: "ours@example.com", firstname: "Ours", lead_source_system: h.config.leadSourceMarker })],
      { origin: "backfill" },
    );
    expect(result).toMatchObject({ created: 0, linked: 1 });
    expect(await h.prisma.leadCrmLink.findFirstOrThrow({ where: { externalId: "9201" } })).toMatchObject({ leadId: lead.id });
  });
});
