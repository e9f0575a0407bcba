import { ensureCrmImportForm } from "@leadsync/db";
import { propertiesToRead, type CrmContact } from "@leadsync/core";
import type { Integration, IntegrationDirectory } from "../integrations.js";
import { TRANSACTION_LIMITS, decideAll, logApplied, writeDecisions } from "./contact-changes.js";
import type { InboundBatchDeps } from "./handle-batch.js";
import { retryLostRaces } from "./lost-race.js";
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
  deps: Pick<InboundBatchDeps, "config" | "prisma" | "logger" | "directory">,
  integration: Integration,
  contacts: readonly CrmContact[],
  { origin }: SnapshotOptions,
): Promise<SnapshotResult> {
  if (contacts.length === 0) return { created: 0, updated: 0, linked: 0, skipped: {} };
  const byId = new Map(contacts.map((c) => [c.id, c]));
  const byContact = new Map([...byId.values()].map((c) => [c.id, [snapshotItem(integration, c, origin)]]));
  const formId = (await ensureCrmImportForm(deps.prisma, integration.orgId)).id;
  const rules = deps.directory.rulesFor(integration);
  const log = deps.logger.child({ integrationId: integration.id, accountId: integration.externalAccountId, origin });
  // A webhook batch (or the platform) may create a lead with one of these emails meanwhile: applied again, linked.
  const applied = await retryLostRaces(
    () =>
      deps.prisma.$transaction(async (tx) => {
        const decisions = await decideAll(tx, deps.config, integration, byContact, byId, rules);
        return writeDecisions(tx, integration, decisions, new Set(byId.keys()), formId, rules);
      }, TRANSACTION_LIMITS),
    log,
  );
  logApplied(log, applied, rules.crmName);

  const skipped: Record<string, number> = {};
  for (const reason of applied.skipped.values()) skipped[reason] = (skipped[reason] ?? 0) + 1;
  return { created: applied.created.size, updated: applied.updated.size, linked: applied.linked.size, skipped };
}

/** The properties to read for an integration's snapshots: its mapped properties and the origin marker. */
export function snapshotProperties(directory: Pick<IntegrationDirectory, "rulesFor">, integration: Integration): string[] {
  const rules = directory.rulesFor(integration);
  return propertiesToRead(rules.mapping, rules.markerField);
}

/** A fetched contact as the change it stands for: "the contact as of updatedAt". */
function snapshotItem(integration: Integration, contact: CrmContact, origin: SnapshotOptions["origin"]): InboundItem {
  return {
    // A change of no named field, by nobody we know: the read record decides, under the same rules as a feed's.
    change: {
      provider: integration.provider,
      accountId: integration.externalAccountId,
      recordId: contact.id,
      kind: "update",
      type: origin,
      origin: "unknown",
      occurredAt: contact.updatedAt,
      eventId: "0",
      identity: `${origin}\u001f${contact.id}\u001f${contact.updatedAt}`,
    },
    receivedAt: Date.now(),
    jobId: origin,
  };
}
