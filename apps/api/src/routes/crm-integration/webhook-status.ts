import type { PrismaClient } from "@leadsync/db";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { authErrors, bearerSecurity, successResponse } from "../../schemas.js";
import { catchUpJson, catchUpStatus } from "../../services/catch-up.js";
import { findOrgIntegration } from "../../services/org-integration.js";
import { parseStoredSubscriptions } from "../../services/webhook-subscriptions.js";
import { backfillJson, toBackfillJson } from "./backfill.js";
import { integrationIdParams } from "./integration-json.js";

const webhookStatusJson = z.object({
  enabled: z.boolean(),
  totalReceived: z.number(),
  lastReceivedAt: z.string().nullable(),
  subscriptionId: z.string().nullable(),
  events: z.array(z.string()),
  webhookUrl: z.string().nullable(),
  syncHealth: z.object({
    /** Leads linked to a record in this CRM. */
    leadsInSync: z.number(),
    /** CRM contacts we deliberately did not import, by reason (no_email, own_record, …). */
    excluded: z.object({ total: z.number(), byReason: z.record(z.string(), z.number()) }),
    /** Errors in the integration's error log, and the latest. */
    failing: z.object({ count: z.number(), lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable() }),
  }),
  /** The latest backfill, or null when none was ever started. */
  backfill: backfillJson.nullable(),
  /**
   * Reconciliation: the last finished run (when it ended, the modification time it reached, contacts checked and
   * repaired, its error) and whether one is running now.
   */
  reconciliation: z.object({
    status: z.string(),
    running: z.boolean(),
    lastRunAt: z.string().nullable(),
    lastCursor: z.string().nullable(),
    checked: z.number(),
    fixed: z.number(),
    lastError: z.string().nullable(),
  }).nullable(),
  /** Leads this integration never sent, and the last catch-up push (POST …/catch-up). */
  catchUp: catchUpJson,
});

async function syncJobs(prisma: PrismaClient, integrationId: string) {
  const [backfill, reconcile] = await Promise.all([
    prisma.syncJob.findFirst({ where: { integrationId, kind: "backfill" }, orderBy: { createdAt: "desc" } }),
    prisma.syncJob.findFirst({ where: { integrationId, kind: "reconcile" }, orderBy: { createdAt: "asc" } }),
  ]);
  return {
    backfill: backfill && toBackfillJson(backfill),
    reconciliation: reconcile && {
      status: reconcile.status,
      running: reconcile.status === "running",
      lastRunAt: reconcile.finishedAt?.toISOString() ?? null,
      lastCursor: reconcile.cursor === null ? null : new Date(Number(reconcile.cursor)).toISOString(),
      checked: reconcile.processed,
      fixed: reconcile.fixed,
      lastError: reconcile.lastError,
    },
  };
}

const latest = (a: Date | null, b: Date | null) => (a && b ? (a > b ? a : b) : (a ?? b));

async function syncHealth(prisma: PrismaClient, integrationId: string) {
  const [leadsInSync, skipped, errorCount, lastError] = await Promise.all([
    prisma.leadCrmLink.count({ where: { integrationId } }),
    prisma.webhookEvent.groupBy({ by: ["reason"], where: { integrationId, outcome: "skipped" }, _count: { _all: true } }),
    prisma.integrationError.count({ where: { integrationId } }),
    prisma.integrationError.findFirst({ where: { integrationId }, orderBy: { createdAt: "desc" }, select: { code: true, message: true, createdAt: true } }),
  ]);
  const byReason = Object.fromEntries(skipped.map((g) => [g.reason ?? "unspecified", g._count._all]));
  return {
    leadsInSync,
    excluded: { total: skipped.reduce((sum, g) => sum + g._count._all, 0), byReason },
    failing: {
      count: errorCount,
      lastError: lastError && { code: lastError.code, message: lastError.message, at: lastError.createdAt.toISOString() },
    },
  };
}

const webhookStatus: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, connection, queues }) => {
  app.get(
    "/:integrationId/webhook-status",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Webhook subscriptions, what was received, and the sync's health",
        security: bearerSecurity,
        params: integrationIdParams,
        response: { 200: successResponse(webhookStatusJson), ...authErrors },
      },
    },
    async (request) => {
      const integration = await findOrgIntegration(prisma, request.user.orgId, request.params.integrationId);
      const [received, health, jobs, catchUp] = await Promise.all([
        prisma.webhookEvent.aggregate({ where: { integrationId: integration.id }, _count: { _all: true }, _max: { receivedAt: true } }),
        syncHealth(prisma, integration.id),
        syncJobs(prisma, integration.id),
        catchUpStatus({ prisma, connection, queue: queues.crmOutbound }, { id: integration.id, orgId: request.user.orgId }),
      ]);
      const subscriptions = parseStoredSubscriptions(integration.webhookSubscriptions);
      // webhook_events rows are the record of what arrived; the integration's counter columns also count events
      // whose rows were pruned, so the larger of the two is the truth.
      const totalReceived = Math.max(received._count._all, Number(integration.webhookTotalReceived));
      const lastReceivedAt = latest(received._max.receivedAt, integration.webhookLastReceivedAt);
      return {
        success: true as const,
        data: {
          enabled: integration.webhooksEnabled,
          totalReceived,
          lastReceivedAt: lastReceivedAt?.toISOString() ?? null,
          subscriptionId: subscriptions[0]?.id ?? null,
          events: [...new Set(subscriptions.map((s) => s.eventType))],
          webhookUrl: integration.webhookUrl,
          syncHealth: health,
          ...jobs,
          catchUp,
        },
      };
    },
  );
};

export default webhookStatus;
