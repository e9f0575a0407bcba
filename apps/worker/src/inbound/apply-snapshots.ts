import { ensureCrmImportForm } from "@leadsync/db";
import { fieldMappingOf, propertiesToRead, type CrmContact } from "@leadsync/core";
import { syncRulesOf, type Integration } from "../integrations.js";
import { TRANSACTION_LIMITS, decideAll, logApplied, writeDecisions } from "./contact-changes.js";
import type { InboundBatchDeps } from "./handle-batch.js";
import type { InboundItem } from "./types.js";

/** The most contacts one `applyContactSnapshots` call should take: one provider batch, one transaction. */
export const MAX_SNAPSHOTS_PER_CALL = 100;

export interface SnapshotOptions {
  origin: "backfill" | "reconcile";
}

export interface SnapshotResult {
  created: number;
  updated: number;
  linked: number;
  /** reason → contacts skipped for it (own_record, no_email, duplicate_email, …). */
  skipped: Record<string, number>;
}

/**
 * Applies contacts read from the CRM (backfill, reconciliation) with exactly the rules of webhook events: each
 * snapshot counts as a change of the contact at its `updatedAt`, so the same loop, dedupe and conflict rules
 * decide. One transaction per call, no webhook_events rows. Keep the calls to ≤ MAX_SNAPSHOTS_PER_CALL.
 */
export async function applyContactSnapshots(
  deps: Pick<InboundBatchDeps, "config" | "prisma" | "logger">,
  integration: Integration,
  contacts: readonly CrmContact[],
  { origin }: SnapshotOptions,
): Promise<SnapshotResult> {
  if (contacts.length === 0) return { created: 0, updated: 0, linked: 0, skipped: {} };
  const byId = new Map(contacts.map((c) => [c.id, c]));
  const byContact = new Map([...byId.values()].map((c) => [c.id, [snapshotItem(integration, c, origin)]]));
  const formId = (await ensureCrmImportForm(deps.prisma, integration.orgId)).id;
  const rules = syncRulesOf(integration, deps.config);
  const applied = await deps.prisma.$transaction(async (tx) => {
    const decisions = await decideAll(tx, deps.config, integration, byContact, byId, rules);
    return writeDecisions(tx, integration, decisions, new Set(byId.keys()), formId, rules);
  }, TRANSACTION_LIMITS);
  logApplied(deps.logger.child({ integrationId: integration.id, portalId: integration.externalAccountId, origin }), applied);

  const skipped: Record<string, number> = {};
  for (const reason of applied.skipped.values()) skipped[reason] = (skipped[reason] ?? 0) + 1;
  return { created: applied.created.size, updated: applied.updated.size, linked: applied.linked.size, skipped };
}

/** The properties to read for an integration's snapshots: its mapped properties and the origin marker. */
export function snapshotProperties(integration: Pick<Integration, "settings">): string[] {
  return propertiesToRead(fieldMappingOf(integration));
}

/** A fetched contact as the change it stands for: "the contact as of updatedAt". */
function snapshotItem(integration: Integration, contact: CrmContact, origin: SnapshotOptions["origin"]): InboundItem {
  return {
    event: {
      eventId: "0",
      portalId: integration.externalAccountId,
      occurredAt: contact.updatedAt,
      subscriptionType: "contact.propertyChange",
      attemptNumber: 0,
      objectId: contact.id,
      changeSource: origin,
    },
    receivedAt: Date.now(),
    jobId: origin,
  };
}
