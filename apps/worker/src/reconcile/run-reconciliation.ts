import type { CrmContact } from "@leadsync/core";
import type { SyncJob } from "@leadsync/db";
import { MAX_SNAPSHOTS_PER_CALL, applyContactSnapshots, snapshotProperties } from "../inbound/apply-snapshots.js";
import type { Integration } from "../integrations.js";
import { errorMessage } from "../job-failures.js";
import { untilNotRateLimited } from "../backfill/rate-limit-wait.js";
import type { SyncRunDeps } from "../backfill/run-backfill.js";
import { HEARTBEAT_MS } from "../backfill/sync-job-store.js";

/**
 * Reconciliation: asks the CRM for the contacts modified since the cursor (minus an overlap: search is eventually
 * consistent, a change may become searchable a little after later ones) and applies them with the webhook rules,
 * which repairs whatever a lost webhook left out of date. One sync_jobs row per integration keeps the cursor
 * (the newest `lastmodifieddate` seen) and the last run's figures.
 */

/** How far before the cursor each run looks again, for changes search had not indexed yet. */
export const RECONCILE_OVERLAP_MS = 60_000;
/** Search pages by offset up to 10,000 results; before that, the query restarts from the newest time seen. */
const SEARCH_OFFSET_LIMIT = 9_900;

export interface ReconcileResult {
  checked: number;
  fixed: number;
  cursor: number;
}

/** `signal` (shutdown) ends a wait for budget: the run stops and the next tick starts it again from its cursor. */
export async function runReconciliation(deps: SyncRunDeps, integration: Integration, options: { signal?: AbortSignal } = {}): Promise<ReconcileResult> {
  const { prisma } = deps;
  const log = deps.logger.child({ integrationId: integration.id, kind: "reconcile" });
  const row = await reconcileRow(deps, integration.id);
  const startedAt = new Date();
  const previous = row.cursor === null ? integration.createdAt.getTime() : Number(row.cursor);
  const provider = deps.directory.providerFor(integration);
  const properties = snapshotProperties(deps.directory, integration);
  const heartbeat = async () => {
    await prisma.syncJob.update({ where: { id: row.id }, data: { updatedAt: new Date() } });
  };
  // finishedAt, processed and fixed keep describing the last finished run until this one ends.
  await prisma.syncJob.update({ where: { id: row.id }, data: { status: "running", startedAt } });

  let checked = 0;
  let fixed = 0;
  let newest = previous;
  try {
    let since = previous - RECONCILE_OVERLAP_MS;
    let after: string | undefined;
    for (;;) {
      const page = await untilNotRateLimited(() => provider.listContactsModifiedSince(since, after, properties), {
        heartbeat,
        heartbeatMs: HEARTBEAT_MS,
        signal: options.signal,
      });
      for (let i = 0; i < page.contacts.length; i += MAX_SNAPSHOTS_PER_CALL) fixed += await apply(page.contacts.slice(i, i + MAX_SNAPSHOTS_PER_CALL));
      checked += page.contacts.length;
      for (const contact of page.contacts) newest = Math.max(newest, contact.updatedAt);
      if (page.after === undefined || page.contacts.length === 0) break;
      // An offset cursor (HubSpot search) stops at its cap: past it, the next query starts at the newest time seen.
      if (!/^\d+$/.test(page.after) || Number(page.after) < SEARCH_OFFSET_LIMIT) {
        after = page.after;
      } else if (newest > since) {
        since = newest; // GTE: contacts at exactly `newest` come again, which applying tolerates
        after = undefined;
      } else {
        log.warn({ since }, "More than 10,000 contacts share one modification time; the rest wait for the next run");
        break;
      }
    }
  } catch (error) {
    if (options.signal?.aborted) {
      // Shutdown while it waited for budget: not a failure; the next tick resumes from the unchanged cursor.
      await prisma.syncJob.update({ where: { id: row.id }, data: { status: "queued" } });
      log.info({ checked }, "Reconciliation stopped by shutdown; the next run resumes from its cursor");
      throw error;
    }
    const message = errorMessage(error);
    log.error({ err: error }, `Reconciliation failed: ${message}`);
    await prisma.$transaction([
      prisma.syncJob.update({ where: { id: row.id }, data: { status: "failed", lastError: message, finishedAt: new Date() } }),
      prisma.integrationError.create({ data: { integrationId: integration.id, code: "reconcile_failed", message } }),
    ]);
    throw error;
  }

  await prisma.syncJob.update({
    where: { id: row.id },
    data: { status: "completed", cursor: String(newest), processed: checked, fixed, finishedAt: new Date(), lastError: null },
  });
  log.info({ checked, fixed, cursor: newest }, `Reconciliation checked ${checked} contact(s), fixed ${fixed}`);
  return { checked, fixed, cursor: newest };

  async function apply(contacts: CrmContact[]): Promise<number> {
    const result = await applyContactSnapshots(deps, integration, contacts, { origin: "reconcile" });
    return result.created + result.updated + result.linked;
  }
}

/** The integration's reconciliation row (created on its first run). */
async function reconcileRow({ prisma }: SyncRunDeps, integrationId: string): Promise<SyncJob> {
  const existing = await prisma.syncJob.findFirst({ where: { integrationId, kind: "reconcile" }, orderBy: { createdAt: "asc" } });
  return existing ?? prisma.syncJob.create({ data: { integrationId, kind: "reconcile" } });
}
