import { fieldOfProperty, isEchoOfOurWrite, type ConflictRule, type FieldMapping } from "@leadsync/core";
import type { PrismaClient } from "@leadsync/db";
import { asObject, pushedTimes, pushedValues } from "./lead-store.js";
import type { EventVerdict, InboundItem } from "./types.js";

/**
 * What can be decided about a contact's events before reading the contact (issue 6: ping-pong impossible by
 * construction, and fewer reads): our own echoes, events no newer than what the lead already holds, and changes
 * of properties the integration does not map. Only what is left is read.
 */

export interface KnownContact {
  leadId: string;
  leadSource: string;
  fieldVersions: Record<string, number>;
  lastPushed: Record<string, unknown>;
  lastSyncedAt: number;
  /** Per property, when it was last in sync (see LinkRow). */
  propertySyncedAt: Record<string, number>;
}

/** The linked contacts among `contactIds`, read without locks (the transaction re-reads and locks what it writes). */
export async function knownContacts(prisma: PrismaClient, integrationId: string, contactIds: readonly string[]): Promise<Map<string, KnownContact>> {
  if (contactIds.length === 0) return new Map();
  // Raw SQL: this read runs for every batch, and the query compiler's work for it cost more than the query.
  const links = await prisma.$queryRaw<{ externalId: string; leadId: string; lastPushed: unknown; lastSyncedAt: Date | null; source: string; fieldVersions: unknown }[]>`
    SELECT k.external_id AS "externalId", k.lead_id::text AS "leadId", k.last_pushed AS "lastPushed", k.last_synced_at AS "lastSyncedAt",
           l.source, l.field_versions AS "fieldVersions"
    FROM lead_crm_links AS k
    JOIN leads AS l ON l.id = k.lead_id
    WHERE k.integration_id = ${integrationId}::uuid AND k.external_id = ANY(${[...contactIds]}::text[])`;
  return new Map(
    links.map((l) => [
      l.externalId,
      {
        leadId: l.leadId,
        leadSource: l.source,
        fieldVersions: asObject(l.fieldVersions) as Record<string, number>,
        lastPushed: pushedValues(l.lastPushed),
        lastSyncedAt: l.lastSyncedAt?.getTime() ?? 0,
        propertySyncedAt: pushedTimes(l.lastPushed),
      },
    ]),
  );
}

export interface PrefilterContext {
  known: ReadonlyMap<string, KnownContact>;
  mapping: FieldMapping;
  rule: ConflictRule;
  marker: string;
}

const skipped = (reason: string): EventVerdict => ({ outcome: "skipped", reason });

/** The verdict of a change that needs no read, or undefined when the record must be read for it. */
export function verdictWithoutRead(item: InboundItem, ctx: PrefilterContext): EventVerdict | undefined {
  const { change } = item;
  const known = ctx.known.get(change.recordId);
  if (change.kind === "create") {
    // The creation of a record our push made: the lead is the source.
    return known && known.leadSource === ctx.marker ? skipped("echo") : undefined;
  }
  if (change.kind !== "update" || change.fields === undefined) return undefined;
  const properties = Object.keys(change.fields);
  const fields = properties.map((property) => fieldOfProperty(ctx.mapping, property));
  if (properties.length === 0 || fields.every((field) => field === undefined)) return skipped("unmapped_property");
  if (!known) return undefined;
  if (isEchoOfOurWrite(change, known.lastPushed)) return skipped("echo");
  // prefer_crm lets an older CRM change beat a pending platform change: that one must be read.
  const stale = properties.every((property, i) => {
    const field = fields[i];
    if (field === undefined) return true;
    const version = known.fieldVersions[field] ?? 0;
    const platformPending = version > (known.propertySyncedAt[property] ?? known.lastSyncedAt);
    return version >= change.occurredAt && !(ctx.rule === "prefer_crm" && platformPending);
  });
  return stale ? skipped("stale") : undefined;
}
