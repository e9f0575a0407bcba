import type { PrismaClient, SyncJob } from "@leadsync/db";

/** Backfill rows that have not finished: a new request resumes the latest of them instead of starting over. */
export const UNFINISHED_STATUSES = ["queued", "running", "failed"] as const;

/**
 * The integration's unfinished backfill, or a new queued one. The integration row is locked for the check, so
 * two requests at the same moment cannot both create one.
 */
export async function findOrCreateBackfill(prisma: PrismaClient, integrationId: string): Promise<{ job: SyncJob; resumed: boolean }> {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM crm_integrations WHERE id = ${integrationId}::uuid FOR UPDATE`;
    const unfinished = await tx.syncJob.findFirst({
      where: { integrationId, kind: "backfill", status: { in: [...UNFINISHED_STATUSES] } },
      orderBy: { createdAt: "desc" },
    });
    if (unfinished) return { job: unfinished, resumed: true };
    return { job: await tx.syncJob.create({ data: { integrationId, kind: "backfill" } }), resumed: false };
  });
}
