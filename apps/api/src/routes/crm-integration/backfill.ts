import type { PrismaClient, SyncJob } from "@leadsync/db";
import { QUEUES, enqueue, layoutFromConfig, openQueue } from "@leadsync/queue";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { ConflictError, UnprocessableError } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse } from "../../schemas.js";
import { findOrgIntegration } from "../../services/org-integration.js";
import { integrationIdParams } from "./integration-json.js";

/**
 * `POST /:integrationId/backfill`: queues an import of the portal's existing contacts on `crm-sync`; the worker runs
 * it and `webhook-status` shows its progress. One at a time per integration: a backfill that is queued or running
 * answers 409; one that failed or whose process died (no heartbeat) is resumed from its cursor.
 */

/** A running backfill touches its row at least every 10 s (worker's sync-job-store.ts); silent this long = dead. */
const DEAD_AFTER_MS = 60_000;

export const backfillJson = z.object({
  id: z.string(),
  status: z.string(),
  processed: z.number(),
  total: z.number().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export function toBackfillJson(job: SyncJob): z.infer<typeof backfillJson> {
  return {
    id: job.id,
    status: job.status,
    processed: job.processed,
    total: job.total,
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

function isActive(job: SyncJob, now: number): boolean {
  if (job.status === "queued") return true;
  return job.status === "running" && job.owner !== null && now - job.updatedAt.getTime() < DEAD_AFTER_MS;
}

/** The backfill to run: a new one, or the unfinished one to resume; ConflictError while one is active. */
async function claimBackfill(prisma: PrismaClient, integrationId: string): Promise<SyncJob> {
  return prisma.$transaction(async (tx) => {
    // Serialises concurrent requests for the same integration.
    await tx.$queryRaw`SELECT id FROM crm_integrations WHERE id = ${integrationId}::uuid FOR UPDATE`;
    const unfinished = await tx.syncJob.findFirst({
      where: { integrationId, kind: "backfill", status: { in: ["queued", "running", "failed"] } },
      orderBy: { createdAt: "desc" },
    });
    if (unfinished && isActive(unfinished, Date.now())) {
      throw new ConflictError("backfill_running", "A backfill of this integration is already queued or running", toBackfillJson(unfinished));
    }
    if (unfinished) return tx.syncJob.update({ where: { id: unfinished.id }, data: { status: "queued", lastError: null, owner: null } });
    return tx.syncJob.create({ data: { integrationId, kind: "backfill" } });
  });
}

const backfill: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, config, connection }) => {
  const queue = openQueue(QUEUES.crmSync, { connection, layout: layoutFromConfig(config), logger: app.log });
  app.addHook("onClose", () => queue.close());

  app.post(
    "/:integrationId/backfill",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Import the portal's existing contacts (a background job; progress in webhook-status)",
        security: bearerSecurity,
        params: integrationIdParams,
        response: {
          202: z.object({ success: z.literal(true), data: backfillJson, message: z.string() }),
          ...authErrors,
          409: errorResponse,
          422: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const integration = await findOrgIntegration(prisma, request.user.orgId, request.params.integrationId);
      if (integration.status !== "active" || integration.syncDirection === "to_crm") {
        throw new UnprocessableError("inbound_sync_off", "This integration takes no contacts from the CRM (inactive, or direction to_crm)");
      }
      const job = await claimBackfill(prisma, integration.id);
      try {
        await enqueue(queue, { v: 1, kind: "backfill", integrationId: integration.id, syncJobId: job.id });
      } catch (err) {
        // Not queued: leave it resumable rather than "queued" forever.
        await prisma.syncJob.update({ where: { id: job.id }, data: { status: "failed", lastError: "could not be queued" } });
        throw err;
      }
      request.log.info({ integrationId: integration.id, syncJobId: job.id }, "backfill queued");
      return reply.code(202).send({ success: true as const, data: toBackfillJson(job), message: "Backfill queued" });
    },
  );
};

export default backfill;
