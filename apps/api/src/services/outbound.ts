import type { PrismaClient } from "@leadsync/db";
import { enqueue, type CrmOutboundJob, type QUEUES, type TypedQueue } from "@leadsync/queue";
import type { FastifyBaseLogger } from "fastify";

/** Directions in which platform changes are pushed to the CRM. */
const PUSHING_DIRECTIONS = ["to_crm", "bidirectional"] as const;

/**
 * Queues one `crm-outbound` job per integration of the org that pushes platform changes (active, auto-sync on,
 * direction to_crm or bidirectional). Called after the lead is committed: the worker reads the lead's current state,
 * so the job carries only ids. Returns the number of jobs queued.
 *
 * A failure to enqueue does not undo the lead change (the caller's write already succeeded): it is logged and written
 * to each integration's error log so operators see which leads did not go out.
 */
export async function enqueueOutboundSync(
  deps: { prisma: PrismaClient; queue: TypedQueue<typeof QUEUES.crmOutbound>; log: FastifyBaseLogger },
  lead: { orgId: string; id: string },
  reason: CrmOutboundJob["reason"],
): Promise<number> {
  const integrations = await deps.prisma.crmIntegration.findMany({
    where: { orgId: lead.orgId, status: "active", autoSyncEnabled: true, syncDirection: { in: [...PUSHING_DIRECTIONS] } },
    select: { id: true },
  });
  if (integrations.length === 0) return 0;

  const requestedAt = Date.now();
  try {
    await Promise.all(
      integrations.map(({ id: integrationId }) =>
        // Deterministic id: the same change is never queued twice for one integration.
        enqueue(deps.queue, { v: 1, integrationId, leadId: lead.id, reason, requestedAt }, { jobId: `${integrationId}-${lead.id}-${requestedAt}` }),
      ),
    );
    return integrations.length;
  } catch (err) {
    deps.log.error({ err, leadId: lead.id }, "could not queue the lead's CRM sync");
    await deps.prisma.integrationError
      .createMany({
        data: integrations.map(({ id }) => ({
          integrationId: id,
          code: "outbound_enqueue_failed",
          message: `Lead ${reason} on the platform but its sync job could not be queued`,
          leadId: lead.id,
        })),
      })
      .catch((logErr: unknown) => deps.log.error({ err: logErr }, "could not record the enqueue failure"));
    return 0;
  }
}
