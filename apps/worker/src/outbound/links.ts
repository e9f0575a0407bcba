import type { PushedFields } from "@leadsync/core";
import { postgresFailure, type PrismaClient } from "@leadsync/db";

export interface PushedLink {
  leadId: string;
  externalId: string;
  /** What the contact now holds from us, per property (`PushedFields`): merged into the link's `lastPushed`. */
  lastPushed: PushedFields;
}

/**
 * Stores (or refreshes) each lead's link to the contact we pushed, in one statement. The inbound worker may
 * have linked the contact already (our creation's webhook can overtake this write): the upsert on
 * (lead, integration) makes both orders end in the same row. `lastPushed` is merged per property (what the
 * inbound worker recorded meanwhile for other properties stays); a link to another contact starts afresh.
 */
export async function saveLinks(prisma: PrismaClient, integrationId: string, unsorted: readonly PushedLink[]): Promise<void> {
  if (unsorted.length === 0) return;
  // In lead order, so concurrent batches (and the inbound worker's writes) take the rows' locks in the same order.
  const links = [...unsorted].sort((a, b) => (a.leadId < b.leadId ? -1 : a.leadId > b.leadId ? 1 : 0));
  for (let attempt = 1; ; attempt++) {
    try {
      return await insertLinks(prisma, integrationId, links);
    } catch (error) {
      // A deadlock aborts one side: the statement is idempotent, so it runs again at once.
      if (postgresFailure(error)?.code !== "40P01" || attempt >= MAX_DEADLOCK_RETRIES) throw error;
    }
  }
}

const MAX_DEADLOCK_RETRIES = 3;

async function insertLinks(prisma: PrismaClient, integrationId: string, links: readonly PushedLink[]): Promise<void> {
  await prisma.$executeRaw`
    INSERT INTO lead_crm_links (id, lead_id, integration_id, provider, external_id, last_pushed, last_synced_at, created_at, updated_at)
    SELECT gen_random_uuid(), v.lead_id, ${integrationId}::uuid, (SELECT provider FROM crm_integrations WHERE id = ${integrationId}::uuid), v.external_id, v.last_pushed::jsonb, now(), now(), now()
    FROM unnest(
      ${links.map((l) => l.leadId)}::uuid[],
      ${links.map((l) => l.externalId)}::text[],
      ${links.map((l) => JSON.stringify(l.lastPushed))}::text[]
    ) AS v(lead_id, external_id, last_pushed)
    ON CONFLICT (lead_id, integration_id) DO UPDATE
      SET last_pushed = CASE WHEN lead_crm_links.external_id = EXCLUDED.external_id
                             THEN lead_crm_links.last_pushed || EXCLUDED.last_pushed
                             ELSE EXCLUDED.last_pushed END,
          external_id = EXCLUDED.external_id,
          last_synced_at = EXCLUDED.last_synced_at, updated_at = now()`;
}
