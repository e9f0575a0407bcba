import { changeDedupeKey } from "@leadsync/core";
import type { Prisma } from "@leadsync/db";
import type { EventVerdict, InboundItem } from "./types.js";

export interface EventRow {
  item: InboundItem;
  dedupeKey: string;
  verdict: EventVerdict;
}

export interface ClaimScope {
  integrationId: string | null;
  provider: string;
  accountId: string;
}

/** Rows for a batch's events, one per dedupe key (a redelivery inside the same batch collapses here). */
export function eventRows(items: readonly InboundItem[], verdictFor: (item: InboundItem) => EventVerdict): EventRow[] {
  const rows = new Map<string, EventRow>();
  for (const item of items) {
    const dedupeKey = changeDedupeKey(item.change);
    if (!rows.has(dedupeKey)) rows.set(dedupeKey, { item, dedupeKey, verdict: verdictFor(item) });
  }
  return [...rows.values()];
}

/**
 * Records the events and returns the dedupe keys this transaction claimed. A key already present is a
 * redelivery: it is not returned. When another transaction inserted the same key and has not committed yet,
 * the unique index makes this one wait and then see the conflict, so two workers never both claim an event.
 */
export async function claimEvents(tx: Prisma.TransactionClient, scope: ClaimScope, rows: readonly EventRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  // The rows travel as one JSON parameter: a hundred rows of array parameters cost far more client CPU to encode.
  const values = JSON.stringify(
    rows.map(({ dedupeKey, item: { change, receivedAt }, verdict }) => ({
      dedupe_key: dedupeKey,
      event_id: change.eventId,
      subscription_type: change.type,
      object_id: change.recordId,
      property_name: singleField(change.fields),
      occurred_at: change.occurredAt,
      outcome: verdict.outcome,
      reason: verdict.reason,
      received_at: receivedAt,
    })),
  );
  const claimed = await tx.$queryRaw<{ dedupe_key: string }[]>`
    INSERT INTO webhook_events
      (dedupe_key, integration_id, provider, external_account_id, event_id, subscription_type, object_id,
       property_name, occurred_at, outcome, reason, received_at)
    SELECT v.dedupe_key, ${scope.integrationId}::uuid, ${scope.provider}::"CrmProvider", ${scope.accountId}, v.event_id,
           v.subscription_type, v.object_id, v.property_name, to_timestamp(v.occurred_at / 1000.0), v.outcome,
           v.reason, to_timestamp(v.received_at / 1000.0)
    FROM json_to_recordset(${values}::json) AS v(dedupe_key text, event_id text, subscription_type text, object_id text,
      property_name text, occurred_at float8, outcome text, reason text, received_at float8)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING dedupe_key`;
  return new Set(claimed.map((r) => r.dedupe_key));
}

/** The status counters (webhook-status): only newly claimed events count, redeliveries do not. */
export async function countReceived(tx: Prisma.TransactionClient, integrationId: string, claimed: readonly EventRow[]): Promise<void> {
  if (claimed.length === 0) return;
  const lastReceivedAt = new Date(Math.max(...claimed.map((r) => r.item.receivedAt)));
  await tx.$executeRaw`
    UPDATE crm_integrations
    SET webhook_total_received = webhook_total_received + ${claimed.length},
        webhook_last_received_at = GREATEST(COALESCE(webhook_last_received_at, ${lastReceivedAt}), ${lastReceivedAt})
    WHERE id = ${integrationId}::uuid`;
}

/** The changed field of a one-field change (HubSpot's propertyChange), else null: several fields have no one name. */
function singleField(fields: Readonly<Record<string, unknown>> | undefined): string | null {
  if (fields === undefined) return null;
  const names = Object.keys(fields);
  return names.length === 1 ? (names[0] ?? null) : null;
}
