import type { PrismaClient } from "@leadsync/db";
import { enqueue, type QUEUES, type QueueGroup, type RedisClient } from "@leadsync/queue";
import { z } from "zod";

/**
 * The catch-up push: leads an integration never sent to its CRM — created or changed while it did not push (auto-sync
 * off, direction from_crm, paused) — queued on `crm-outbound` like new leads, so the outbound worker creates (or links
 * by email) their contacts. It is offered, not automatic: switching an integration to push answers how many leads
 * wait and the route that sends them (`POST /api/v1/crm-integration/:id/catch-up`), so an operator decides when a
 * backlog goes out. Progress: `webhook-status`'s `catchUp` (unsent counts down to 0).
 */

/** Which leads were "never sent": no link to this integration, not archived, and never linked to one of its
 * contacts that the CRM then deleted, merged away or erased (pushing those would recreate what the CRM removed). */
const UNSENT_WHERE = `
  l.org_id = $1 AND l.archived_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM lead_crm_links k WHERE k.lead_id = l.id AND k.integration_id = $2::uuid)
  AND NOT EXISTS (SELECT 1 FROM unlinked_contacts u WHERE u.lead_id = l.id AND u.integration_id = $2::uuid)
  AND NOT EXISTS (SELECT 1 FROM privacy_erasures p WHERE p.lead_id = l.id AND p.integration_id = $2::uuid)`;

const ENQUEUE_CHUNK = 500;

export interface PushSettings {
  status: string;
  autoSyncEnabled: boolean;
  syncDirection: string;
}

/** An integration pushes platform changes: active, auto-sync on, direction to_crm or bidirectional (as services/outbound.ts). */
export function pushes(integration: PushSettings): boolean {
  return integration.status === "active" && integration.autoSyncEnabled && (integration.syncDirection === "to_crm" || integration.syncDirection === "bidirectional");
}

export async function countUnsentLeads(prisma: PrismaClient, orgId: string, integrationId: string): Promise<number> {
  const rows = await prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM leads l WHERE ${UNSENT_WHERE}`, orgId, integrationId);
  return Number(rows[0]?.n ?? 0);
}

async function unsentLeadIds(prisma: PrismaClient, orgId: string, integrationId: string): Promise<string[]> {
  const rows = await prisma.$queryRawUnsafe<{ id: string }[]>(`SELECT l.id::text AS id FROM leads l WHERE ${UNSENT_WHERE} ORDER BY l.created_at, l.id`, orgId, integrationId);
  return rows.map((r) => r.id);
}

/** The last catch-up's request, kept in Redis beside the queue it fed (same prefix, so tests and dev setups stay apart). */
function runKey(queue: QueueGroup<typeof QUEUES.crmOutbound>, integrationId: string): string {
  return `${queue.layout.prefix}:catch-up:${integrationId}`;
}

export const catchUpJson = z.object({
  /** Leads of the org this integration never sent (counts down to 0 as a catch-up runs). */
  unsent: z.number(),
  /** The last catch-up: when it was requested and how many leads it queued; null when none was. */
  lastRun: z.object({ requestedAt: z.string(), queued: z.number() }).nullable(),
});
export type CatchUpJson = z.infer<typeof catchUpJson>;

export async function catchUpStatus(
  deps: { prisma: PrismaClient; connection: RedisClient; queue: QueueGroup<typeof QUEUES.crmOutbound> },
  integration: { id: string; orgId: string },
): Promise<CatchUpJson> {
  const [unsent, run] = await Promise.all([
    countUnsentLeads(deps.prisma, integration.orgId, integration.id),
    deps.connection.hgetall(runKey(deps.queue, integration.id)),
  ]);
  const lastRun = run["requestedAt"] ? { requestedAt: new Date(Number(run["requestedAt"])).toISOString(), queued: Number(run["queued"] ?? 0) } : null;
  return { unsent, lastRun };
}

/**
 * Queues one `crm-outbound` job per never-sent lead. The job id carries the request time (as services/outbound.ts
 * does): a lead whose earlier push failed is queued again; one still queued from an earlier request is pushed once
 * and then found linked.
 */
export async function queueCatchUp(
  deps: { prisma: PrismaClient; connection: RedisClient; queue: QueueGroup<typeof QUEUES.crmOutbound> },
  integration: { id: string; orgId: string },
): Promise<{ queued: number }> {
  const ids = await unsentLeadIds(deps.prisma, integration.orgId, integration.id);
  const requestedAt = Date.now();
  // A backlog by definition: the bulk lane, behind other integrations' new leads.
  const queue = deps.queue.route(integration.id, "bulk");
  for (let i = 0; i < ids.length; i += ENQUEUE_CHUNK) {
    await Promise.all(
      ids.slice(i, i + ENQUEUE_CHUNK).map((leadId) =>
        // "created": the worker reads the lead's current state and creates (or links by email) its contact.
        enqueue(queue, { v: 1, integrationId: integration.id, leadId, reason: "created", requestedAt }, { jobId: `catchup-${integration.id}-${leadId}-${requestedAt}` }),
      ),
    );
  }
  await deps.connection.hset(runKey(deps.queue, integration.id), { requestedAt: String(requestedAt), queued: String(ids.length) });
  return { queued: ids.length };
}
