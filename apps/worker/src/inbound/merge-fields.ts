import {
  LEAD_FIELDS,
  resolveField,
  type ConflictRule,
  type FieldMapping,
  type FieldSides,
  type LeadField,
  type LeadFieldValues,
} from "@leadsync/core";
import type { Lead } from "@leadsync/db";

/** The lead columns the sync reads and writes, plus the per-field versions (ms epoch). */
export type LeadState = Pick<Lead, "id" | "email" | "firstName" | "lastName" | "phone" | "company" | "jobTitle"> & {
  fieldVersions: Record<string, number>;
};

export interface FieldMerge {
  changes: LeadFieldValues;
  fieldVersions: Record<string, number>;
}

/** What the CRM side knows about one property beyond the read: the latest change event for it. */
export interface PropertyChange {
  value: string | undefined;
  occurredAt: number;
  /** A person or another app made it (the event's changeSource/sourceId). */
  foreign: boolean;
}

export interface MergeContext {
  /** The read's time: the contact's last modification (ms epoch). */
  contactUpdatedAt: number;
  lastPushed: Readonly<Record<string, unknown>>;
  /** When the link last synced (ms epoch); 0 when unknown. */
  lastSyncedAt?: number;
  /** Per property, when it was last in sync (a push or pull of it); more precise than the link's lastSyncedAt. */
  propertySyncedAt?: Readonly<Record<string, number>>;
  mapping: FieldMapping;
  rule?: ConflictRule;
  /** Property name → its latest change event in this batch. */
  propertyChanges?: ReadonlyMap<string, PropertyChange>;
  /** The CRM's timestamp resolution (ms; the provider's limits.clockResolutionMs). */
  crmClockResolutionMs?: number;
  /** When the record was read (ms epoch). */
  contactReadAt?: number;
}

/** A field both sides changed since the last sync, and which side the rule kept. */
export interface FieldConflict {
  leadId: string;
  field: LeadField;
  crmChangedAt: number;
  platformChangedAt: number;
  rule: ConflictRule;
  winner: "crm" | "platform";
}

export interface ContactMerge extends FieldMerge {
  conflicts: FieldConflict[];
}

/**
 * Merges a contact read into a lead, field by field (core's resolveField): a CRM value is taken when it differs
 * from the lead's, is not our own last push coming back, and is not older than the lead's value — and when the
 * platform changed the field too since the last sync, the integration's conflict rule decides. Empty CRM values
 * never blank a lead field.
 */
export function mergeContactIntoLead(lead: LeadState, contactFields: LeadFieldValues, ctx: MergeContext): ContactMerge {
  const mapping = ctx.mapping;
  const rule = ctx.rule ?? "latest_wins";
  const changes: LeadFieldValues = {};
  const fieldVersions = { ...lead.fieldVersions };
  const conflicts: FieldConflict[] = [];
  for (const field of LEAD_FIELDS) {
    const value = contactFields[field];
    if (value === undefined || value === null) continue;
    const event = ctx.propertyChanges?.get(mapping[field]);
    // The event dates this value only when it carries it; otherwise the read's time is all we know.
    const dated = event !== undefined && (event.value === undefined || event.value === value);
    const sides: FieldSides = {
      crmValue: value,
      crmChangedAt: dated ? event.occurredAt : ctx.contactUpdatedAt,
      crmChangeIsForeign: dated && event.foreign,
      leadValue: lead[field],
      leadChangedAt: lead.fieldVersions[field] ?? 0,
      lastPushedValue: ctx.lastPushed[mapping[field]],
      lastSyncedAt: ctx.propertySyncedAt?.[mapping[field]] ?? ctx.lastSyncedAt ?? 0,
      ...(ctx.crmClockResolutionMs === undefined ? {} : { crmClockResolutionMs: ctx.crmClockResolutionMs }),
      ...(ctx.contactReadAt === undefined ? {} : { crmReadAt: ctx.contactReadAt }),
    };
    const resolution = resolveField(sides, rule);
    const conflict = resolution.winner === "crm" ? resolution.conflict : resolution.reason === "conflict";
    if (conflict) {
      conflicts.push({ leadId: lead.id, field, crmChangedAt: sides.crmChangedAt, platformChangedAt: sides.leadChangedAt, rule, winner: resolution.winner });
    }
    if (resolution.winner !== "crm") continue;
    changes[field] = value;
    // A winning CRM value is at least as new as the lead's (a coarse CRM clock may stamp it a little earlier).
    fieldVersions[field] = Math.max(ctx.contactUpdatedAt, sides.crmChangedAt, resolution.conflict ? 0 : sides.leadChangedAt);
  }
  return { changes, fieldVersions, conflicts };
}

/** Field versions for a lead created from a contact: every field as of the contact's read. */
export function initialFieldVersions(fields: LeadFieldValues, version: number): Record<string, number> {
  const versions: Record<string, number> = {};
  for (const field of Object.keys(fields) as LeadField[]) {
    if (fields[field] !== undefined && fields[field] !== null) versions[field] = version;
  }
  return versions;
}

/** The lead with the merged values (a merge never sets a field to null). */
export function withChanges(lead: LeadState, merge: FieldMerge): LeadState {
  const next: LeadState = { ...lead, fieldVersions: merge.fieldVersions };
  for (const field of LEAD_FIELDS) {
    const value = merge.changes[field];
    if (value !== undefined && value !== null) next[field] = value;
  }
  return next;
}

export function hasChanges(changes: LeadFieldValues): boolean {
  return Object.keys(changes).length > 0;
}
