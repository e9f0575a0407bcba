import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@leadsync/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneOldRows } from "../src/reconcile/prune.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

const DAY = 24 * 3600_000;

describe("pruneOldRows (RETENTION_DAYS)", () => {
  it("deletes claims, unlinked records, finished backfills and error rows older than the retention, and nothing else", async () => {
    const now = Date.now();
    const old = new Date(now - 31 * DAY);
    const recent = new Date(now - 29 * DAY);
    const { prisma } = db;
    const integration = await prisma.crmIntegration.create({ data: { orgId: "org-prune", provider: "zoho", externalAccountId: "prune-1" } });
    const claim = (key: string, receivedAt: Date) => ({
      dedupeKey: key,
      integrationId: integration.id,
      provider: "zoho" as const,
      externalAccountId: "prune-1",
      eventId: "1",
      subscriptionType: "edit",
      objectId: "r1",
      occurredAt: receivedAt,
      outcome: "processed",
      receivedAt,
    });
    await prisma.webhookEvent.createMany({ data: [claim("old", old), claim("recent", recent)] });
    await prisma.unlinkedContact.createMany({
      data: [
        { integrationId: integration.id, externalId: "u-old", leadId: randomUUID(), unlinkedAt: old },
        { integrationId: integration.id, externalId: "u-new", leadId: randomUUID(), unlinkedAt: recent },
      ],
    });
    await prisma.syncJob.createMany({
      data: [
        { integrationId: integration.id, kind: "backfill", status: "completed", finishedAt: old },
        { integrationId: integration.id, kind: "backfill", status: "running", startedAt: old },
        { integrationId: integration.id, kind: "reconcile", status: "completed", finishedAt: old },
        { integrationId: integration.id, kind: "backfill", status: "failed", finishedAt: recent },
      ],
    });
    await prisma.integrationError.createMany({
      data: [
        { integrationId: integration.id, code: "inbound_failed", message: "old", createdAt: old },
        { integrationId: integration.id, code: "inbound_failed", message: "recent", createdAt: recent },
      ],
    });

    expect(await pruneOldRows(prisma, 30, now)).toEqual({ webhookEvents: 1, unlinkedContacts: 1, syncJobs: 1, integrationErrors: 1 });
    expect((await prisma.webhookEvent.findMany()).map((e) => e.dedupeKey)).toEqual(["recent"]);
    expect((await prisma.unlinkedContact.findMany()).map((u) => u.externalId)).toEqual(["u-new"]);
    // A running backfill and the reconciliation row (it holds the cursor) stay, whatever their age.
    expect((await prisma.syncJob.findMany({ orderBy: { kind: "asc" } })).map((j) => `${j.kind}:${j.status}`).sort()).toEqual([
      "backfill:failed",
      "backfill:running",
      "reconcile:completed",
    ]);
    expect((await prisma.integrationError.findMany()).map((e) => e.message)).toEqual(["recent"]);
    // Nothing left to prune: a second run deletes nothing.
    expect(await pruneOldRows(prisma, 30, now)).toEqual({ webhookEvents: 0, unlinkedContacts: 0, syncJobs: 0, integrationErrors: 0 });
  });
});
