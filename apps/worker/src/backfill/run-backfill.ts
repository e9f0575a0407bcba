import type { Config, Logger } from "@leadsync/config";
import type { CrmContact } from "@leadsync/core";
import type { PrismaClient } from "@leadsync/db";
import { MAX_SNAPSHOTS_PER_CALL, applyContactSnapshots, snapshotProperties } from "../inbound/apply-snapshots.js";
import type { Integration, IntegrationDirectory } from "../integrations.js";
import { errorMessage } from "../job-failures.js";
import { untilNotRateLimited } from "./rate-limit-wait.js";
import { HEARTBEAT_MS, claimSyncJob, currentOwner, updateOwned } from "./sync-job-store.js";

/**
 * The backfill: every contact of the portal, read in id order through search (keyset paging on hs_object_id, so
 * search's 10,000-result cap never applies; 200 per call at 5 calls/s), applied 100 at a time with the webhook
 * rules (`applyContactSnapshots`). After each applied chunk the cursor (last contact id) is saved, so a run that
 * dies resumes right after the last committed chunk; a chunk applied twice changes nothing.
 */

/** HubSpot's search page maximum. */
const READ_PAGE_SIZE = 200;

export interface SyncRunDeps {
  config: Config;
  prisma: PrismaClient;
  directory: IntegrationDirectory;
  logger: Logger;
}

/**
 * Where a backfill stands. `processed` counts every contact read, also by earlier runs of a resumed backfill; the
 * outcome counters count this run's contacts, each in exactly one of them: created + updated + linked + unchanged +
 * skipped = the contacts this run read.
 */
export interface BackfillProgress {
  processed: number;
  total: number | null;
  created: number;
  updated: number;
  linked: number;
  /** Already in sync: read, and nothing to change. */
  unchanged: number;
  skipped: number;
  /** The skipped contacts by reason (no_email, own_record, …). */
  skippedByReason: Record<string, number>;
}

export type BackfillOutcome =
  | { status: "completed"; progress: BackfillProgress }
  /** Stopped by the signal: the cursor is saved, a later run resumes. */
  | { status: "interrupted"; progress: BackfillProgress }
  /** Another live process runs it (or took it over). */
  | { status: "busy"; owner: string };

export interface RunBackfillOptions {
  owner?: string;
  signal?: AbortSignal;
  onProgress?: (progress: BackfillProgress) => void;
}

/** Errors that end a backfill and are recorded on the row and in the integration's error log. */
export class BackfillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackfillError";
  }
}

export async function runBackfill(deps: SyncRunDeps, syncJobId: string, options: RunBackfillOptions = {}): Promise<BackfillOutcome> {
  const { prisma } = deps;
  const owner = options.owner ?? currentOwner();
  const claim = await claimSyncJob(prisma, syncJobId, owner);
  if (!claim.ok) return { status: "busy", owner: claim.owner };
  const job = claim.job;
  if (job.status === "completed") return { status: "completed", progress: { ...emptyProgress(), processed: job.processed, total: job.total } };

  const found = await deps.directory.findById(job.integrationId);
  if (!found) throw new BackfillError(`integration ${job.integrationId} no longer exists`);
  const integration: Integration = found;
  const log = deps.logger.child({ integrationId: integration.id, syncJobId, kind: "backfill" });
  const provider = deps.directory.providerFor(integration);
  const properties = snapshotProperties(deps.directory, integration);
  const progress: BackfillProgress = { ...emptyProgress(), processed: job.processed, total: job.total };
  let cursor = job.cursor ?? undefined;
  let lastBeat = Date.now();
  const heartbeat = async () => {
    lastBeat = Date.now();
    if (!(await updateOwned(prisma, syncJobId, owner, { updatedAt: new Date() }))) throw new TakenOverError();
  };
  log.info({ cursor: cursor ?? null, processed: progress.processed }, cursor ? "Resuming backfill" : "Starting backfill");

  try {
    for (;;) {
      if (options.signal?.aborted) return await release("interrupted");
      const page = await untilNotRateLimited(() => provider.listContactsAfter(cursor, properties, READ_PAGE_SIZE), {
        heartbeat,
        heartbeatMs: HEARTBEAT_MS,
        signal: options.signal,
      });
      // `total` of a keyset query counts what is left after the cursor: with what is done, the whole portal.
      if (page.total !== undefined) progress.total = progress.processed + page.total;
      for (let i = 0; i < page.contacts.length; i += MAX_SNAPSHOTS_PER_CALL) {
        await applyChunk(page.contacts.slice(i, i + MAX_SNAPSHOTS_PER_CALL));
        if (options.signal?.aborted) return await release("interrupted");
      }
      if (page.after === undefined || page.contacts.length === 0) break;
      if (Date.now() - lastBeat > HEARTBEAT_MS) await heartbeat();
    }
    await updateOwned(prisma, syncJobId, owner, { status: "completed", total: progress.processed, finishedAt: new Date(), owner: null });
    progress.total = progress.processed;
    log.info({ ...progress }, `Backfill completed: ${progress.processed} contact(s)`);
    return { status: "completed", progress };
  } catch (error) {
    if (error instanceof TakenOverError) return { status: "busy", owner: "another process" };
    if (options.signal?.aborted) return await release("interrupted");
    await recordFailure(error);
    throw error;
  }

  async function applyChunk(contacts: CrmContact[]): Promise<void> {
    const result = await applyContactSnapshots(deps, integration, contacts, { origin: "backfill" });
    progress.processed += contacts.length;
    progress.created += result.created;
    progress.updated += result.updated;
    progress.linked += result.linked;
    const skipped = Object.values(result.skipped).reduce((a, b) => a + b, 0);
    progress.skipped += skipped;
    for (const [reason, count] of Object.entries(result.skipped)) progress.skippedByReason[reason] = (progress.skippedByReason[reason] ?? 0) + count;
    // What the snapshot rules neither wrote nor skipped was already as the CRM has it.
    progress.unchanged += Math.max(0, contacts.length - result.created - result.updated - result.linked - skipped);
    cursor = contacts.at(-1)?.id ?? cursor;
    lastBeat = Date.now();
    const saved = await updateOwned(prisma, syncJobId, owner, {
      cursor: cursor ?? null,
      processed: progress.processed,
      total: progress.total,
      fixed: { increment: result.created + result.updated + result.linked },
    });
    if (!saved) throw new TakenOverError();
    options.onProgress?.({ ...progress, skippedByReason: { ...progress.skippedByReason } });
  }

  async function release(status: "interrupted"): Promise<BackfillOutcome> {
    await updateOwned(prisma, syncJobId, owner, { owner: null });
    log.info({ ...progress, cursor: cursor ?? null }, "Backfill interrupted; it resumes from its cursor");
    return { status, progress };
  }

  async function recordFailure(error: unknown): Promise<void> {
    const message = errorMessage(error);
    log.error({ err: error, cursor: cursor ?? null }, `Backfill failed: ${message}`);
    await prisma
      .$transaction([
        prisma.syncJob.updateMany({ where: { id: syncJobId, owner }, data: { status: "failed", lastError: message, owner: null } }),
        prisma.integrationError.create({
          data: { integrationId: job.integrationId, code: "backfill_failed", message, context: { syncJobId, cursor: cursor ?? null } },
        }),
      ])
      .catch((err: unknown) => log.error({ err }, "Could not record the backfill failure"));
  }
}

/** Another process took the row over (ours looked dead to it): stop without touching the row. */
class TakenOverError extends Error {}

function emptyProgress(): BackfillProgress {
  return { processed: 0, total: null, created: 0, updated: 0, linked: 0, unchanged: 0, skipped: 0, skippedByReason: {} };
}
