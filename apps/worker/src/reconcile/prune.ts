import type { PrismaClient } from "@leadsync/db";

/**
 * Retention: the tables that grow with traffic — event claims, records unlinked long ago, finished backfills, error
 * rows — keep `retentionDays` days. Rows go in chunks, so a large first prune never holds locks for long.
 */

export interface PruneResult {
  webhookEvents: number;
  unlinkedContacts: number;
  syncJobs: number;
  integrationErrors: number;
}

/** Rows deleted per statement. */
const CHUNK = 5_000;

export async function pruneOldRows(prisma: PrismaClient, retentionDays: number, now = Date.now()): Promise<PruneResult> {
  const cutoff = new Date(now - retentionDays * 24 * 3600_000);
  return {
    webhookEvents: await inChunks(() => prisma.$executeRaw`
      DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events WHERE received_at < ${cutoff} LIMIT ${CHUNK})`),
    unlinkedContacts: await inChunks(() => prisma.$executeRaw`
      DELETE FROM unlinked_contacts WHERE id IN (SELECT id FROM unlinked_contacts WHERE unlinked_at < ${cutoff} LIMIT ${CHUNK})`),
    // Only finished backfills: a reconciliation row holds its integration's cursor and is kept.
    syncJobs: await inChunks(() => prisma.$executeRaw`
      DELETE FROM sync_jobs WHERE id IN (
        SELECT id FROM sync_jobs WHERE kind = 'backfill' AND status IN ('completed', 'failed') AND finished_at < ${cutoff} LIMIT ${CHUNK})`),
    integrationErrors: await inChunks(() => prisma.$executeRaw`
      DELETE FROM integration_errors WHERE id IN (SELECT id FROM integration_errors WHERE created_at < ${cutoff} LIMIT ${CHUNK})`),
  };
}

async function inChunks(deleteChunk: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteChunk();
    total += deleted;
    if (deleted < CHUNK) return total;
  }
}
