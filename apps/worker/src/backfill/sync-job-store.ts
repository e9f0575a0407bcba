import { hostname } from "node:os";
import type { Prisma, PrismaClient, SyncJob } from "@leadsync/db";

/**
 * Ownership of a sync_jobs row. A run writes `owner` ("host:pid") and touches `updatedAt` at least every
 * HEARTBEAT_MS, so another process can tell a live run from a crashed one: the owner's pid is gone (same
 * host), or its heartbeat is older than STALE_AFTER_MS.
 */

/** A run touches its row at least this often, also while it waits for the rate limit. */
export const HEARTBEAT_MS = 10_000;
/** A run whose heartbeat is older than this is considered dead (BullMQ's lock is 30 s: longer than that). */
export const STALE_AFTER_MS = 60_000;

/** This process, as written to `sync_jobs.owner`. */
export function currentOwner(): string {
  return `${hostname()}:${process.pid}`;
}

function isOwnerAlive(owner: string, now: number, updatedAt: Date): boolean {
  if (now - updatedAt.getTime() > STALE_AFTER_MS) return false;
  const separator = owner.lastIndexOf(":");
  const host = owner.slice(0, separator);
  const pid = Number(owner.slice(separator + 1));
  if (host !== hostname() || !Number.isInteger(pid)) return true; // another machine: only the heartbeat tells
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, but not ours to signal
  }
}

/** Who holds the row, or null when nobody live does (finished, never started, released, or crashed). */
export function liveOwner(job: Pick<SyncJob, "owner" | "status" | "updatedAt">, now = Date.now()): string | null {
  if (job.status === "completed" || job.owner === null) return null;
  return isOwnerAlive(job.owner, now, job.updatedAt) ? job.owner : null;
}

export type ClaimResult = { ok: true; job: SyncJob } | { ok: false; owner: string };

/**
 * Takes the row for `owner` unless another live process holds it. Optimistic: the update only applies if the row
 * is unchanged since it was read, so two processes racing for a dead run's row cannot both win.
 */
export async function claimSyncJob(prisma: PrismaClient, id: string, owner: string): Promise<ClaimResult> {
  const job = await prisma.syncJob.findUniqueOrThrow({ where: { id } });
  const holder = liveOwner(job);
  if (holder !== null && holder !== owner) return { ok: false, owner: holder };
  const { count } = await prisma.syncJob.updateMany({
    where: { id, updatedAt: job.updatedAt },
    data: { owner, status: "running", startedAt: job.startedAt ?? new Date(), lastError: null, finishedAt: null },
  });
  if (count === 0) return claimSyncJob(prisma, id, owner);
  return { ok: true, job: await prisma.syncJob.findUniqueOrThrow({ where: { id } }) };
}

/** Updates the row if `owner` still holds it; false when another process took it over. */
export async function updateOwned(prisma: PrismaClient, id: string, owner: string, data: Prisma.SyncJobUpdateManyMutationInput): Promise<boolean> {
  const { count } = await prisma.syncJob.updateMany({ where: { id, owner }, data });
  return count === 1;
}
