import type { PrismaClient } from "@leadsync/db";
import { enqueue, type CrmOutboundJob, type QUEUES, type QueueGroup } from "@leadsync/queue";
import type { FastifyBaseLogger } from "fastify";

/** Directions in which platform changes are pushed to the CRM. */
const PUSHING_DIRECTIONS = ["to_crm", "bidirectional"] as const;

/**
 * How long an org's pushing integrations are remembered. A burst of leads then costs one lookup per second, not
 * one per lead. This process forgets an org as soon as it changes one of its integrations (`forgetPushingIntegrations`);
 * changes made elsewhere (another API process) are seen within this long. A stale entry that still lists a paused
 * integration costs nothing: the worker checks the integration again before pushing.
 */
const PUSHING_INTEGRATIONS_TTL_MS = 1_000;
const MAX_CACHED_ORGS = 10_000;

interface CachedIntegrations {
  ids: readonly string[];
  expiresAt: number;
}

/** Per Prisma client (one per database: tests run several apps in one process). */
const pushingByClient = new WeakMap<PrismaClient, Map<string, CachedIntegrations>>();

function cacheFor(prisma: PrismaClient): Map<string, CachedIntegrations> {
  let cache = pushingByClient.get(prisma);
  if (!cache) {
    cache = new Map();
    pushingByClient.set(prisma, cache);
  }
  return cache;
}

/** Ids of the org's integrations that push platform changes (active, auto-sync on, direction to_crm or bidirectional). */
export async function pushingIntegrations(prisma: PrismaClient, orgId: string): Promise<readonly string[]> {
  const cache = cacheFor(prisma);
  const now = Date.now();
  const cached = cache.get(orgId);
  if (cached && cached.expiresAt > now) return cached.ids;
  const rows = await prisma.crmIntegration.findMany({
    where: { orgId, status: "active", autoSyncEnabled: true, syncDirection: { in: [...PUSHING_DIRECTIONS] } },
    select: { id: true },
  });
  const ids = rows.map((r) => r.id);
  if (cache.size >= MAX_CACHED_ORGS) cache.clear();
  cache.set(orgId, { ids, expiresAt: now + PUSHING_INTEGRATIONS_TTL_MS });
  return ids;
}

/** Called when this process changed one of the org's integrations: its next lead looks them up again. */
export function forgetPushingIntegrations(prisma: PrismaClient, orgId: string): void {
  pushingByClient.get(prisma)?.delete(orgId);
}

/**
 * Queues one `crm-outbound` job per integration of the org that pushes platform changes. Called after the lead is
 * committed: the worker reads the lead's current state, so the job carries only ids. Returns the number of jobs queued.
 *
 * A failure to enqueue does not undo the lead change (the caller's write already succeeded): it is logged and written
 * to each integration's error log so operators see which leads did not go out.
 */
export async function enqueueOutboundSync(
  deps: { prisma: PrismaClient; queue: QueueGroup<typeof QUEUES.crmOutbound>; log: FastifyBaseLogger },
  lead: { orgId: string; id: string },
  reason: CrmOutboundJob["reason"],
): Promise<number> {
  const integrationIds = await pushingIntegrations(deps.prisma, lead.orgId);
  if (integrationIds.length === 0) return 0;

  const requestedAt = Date.now();
  try {
    await Promise.all(
      integrationIds.map((integrationId) =>
        // Deterministic id: the same change is never queued twice for one integration.
        // Routed by integration: an integration receiving an import goes to the bulk lane, the others stay ahead of it.
        enqueue(deps.queue.routeWork(integrationId, 1), { v: 1, integrationId, leadId: lead.id, reason, requestedAt }, { jobId: `${integrationId}-${lead.id}-${requestedAt}` }),
      ),
    );
    return integrationIds.length;
  } catch (err) {
    deps.log.error({ err, leadId: lead.id }, "could not queue the lead's CRM sync");
    await deps.prisma.integrationError
      .createMany({
        data: integrationIds.map((integrationId) => ({
          integrationId,
          code: "outbound_enqueue_failed",
          message: `Lead ${reason} on the platform but its sync job could not be queued`,
          leadId: lead.id,
        })),
      })
      .catch((logErr: unknown) => deps.log.error({ err: logErr }, "could not record the enqueue failure"));
    return 0;
  }
}
