import {
  contactToLeadFields,
  type ConflictRule,
  type CrmContact,
  type FieldMapping,
  type LeadFieldValues,
} from "@leadsync/core";
import {
  hasChanges,
  initialFieldVersions,
  mergeContactIntoLead,
  type FieldConflict,
  type LeadState,
  type MergeContext,
  type PropertyChange,
} from "./merge-fields.js";
import { eventKind, type EventVerdict, type InboundItem } from "./types.js";

/** What one contact's events do to the platform's leads. */
export type ContactAction =
  | { kind: "none" }
  | { kind: "create"; fields: LeadFieldValues & { email: string }; fieldVersions: Record<string, number> }
  | { kind: "update"; lead: LeadState; changes: LeadFieldValues; fieldVersions: Record<string, number>; createLink: boolean }
  | { kind: "link"; leadId: string }
  | { kind: "unlink"; leadId: string | null };

export interface ContactDecision {
  action: ContactAction;
  /** Applies to each of the contact's events. */
  verdictFor(item: InboundItem): EventVerdict;
  /** Why the contact was skipped, for the log; null when it was applied. */
  skipReason: string | null;
  /** Fields both sides changed since the last sync (logged with the rule's choice). */
  conflicts?: FieldConflict[];
}

export interface ContactContext {
  contactId: string;
  items: readonly InboundItem[];
  /** The contact as read from the CRM; undefined when the read did not return it (deleted meanwhile). */
  contact: CrmContact | undefined;
  /** The lead this contact is linked to in this integration, with what we last pushed to it and when it last synced. */
  linked:
    | { lead: LeadState; lastPushed: Record<string, unknown>; lastSyncedAt?: number; propertySyncedAt?: Record<string, number> }
    | undefined;
  /** The org's lead with the contact's email, if any, and whether that lead is linked to another contact. */
  leadWithEmail: { lead: LeadState; linkedToOtherContact: boolean } | undefined;
  marker: string;
  /** The integration's field mapping (its provider's defaults under settings.fieldMapping). */
  mapping: FieldMapping;
  /** The CRM field that marks records our platform created (the provider client's markerField). */
  markerField: string;
  /** The CRM's timestamp resolution (ms). */
  clockResolutionMs?: number;
  /** The integration's conflict rule (default: latest_wins). */
  rule?: ConflictRule;
}

const processed: EventVerdict = { outcome: "processed", reason: null };
const skipped = (reason: string): EventVerdict => ({ outcome: "skipped", reason });

function uniform(action: ContactAction, verdict: EventVerdict): ContactDecision {
  return { action, verdictFor: () => verdict, skipReason: verdict.outcome === "skipped" ? verdict.reason : null };
}

function latest(items: readonly InboundItem[]): number {
  return items.reduce((max, i) => Math.max(max, i.change.occurredAt), 0);
}

/** Only the contact's own email is needed before the transaction: it selects the leads to lock. */
export function contactEmail(contact: CrmContact | undefined, mapping: FieldMapping): string | null {
  return contact ? (contactToLeadFields(contact.properties, mapping).email ?? null) : null;
}

/** The latest property change per property among the contact's events. */
function propertyChangesOf(ctx: ContactContext): Map<string, PropertyChange> {
  const changes = new Map<string, PropertyChange>();
  for (const { change } of ctx.items) {
    if (change.kind !== "update" || change.fields === undefined) continue;
    for (const [property, value] of Object.entries(change.fields)) {
      const known = changes.get(property);
      if (known && known.occurredAt > change.occurredAt) continue;
      // A cleared value (null) dates nothing: the read decides.
      changes.set(property, { value: value ?? undefined, occurredAt: change.occurredAt, foreign: change.origin === "other" });
    }
  }
  return changes;
}

export function decideContact(ctx: ContactContext): ContactDecision {
  const deletes = ctx.items.filter((i) => eventKind(i.change) === "delete");
  const upserts = ctx.items.filter((i) => eventKind(i.change) === "upsert");

  // A deletion wins when the contact is gone or nothing newer than the deletion arrived with it.
  if (deletes.length > 0 && (!ctx.contact || latest(deletes) >= latest(upserts))) {
    return {
      action: { kind: "unlink", leadId: ctx.linked?.lead.id ?? null },
      verdictFor: (item) => (eventKind(item.change) === "delete" ? processed : skipped("deleted")),
      skipReason: null,
    };
  }
  if (!ctx.contact) return uniform({ kind: "none" }, skipped("not_found"));

  const contact = ctx.contact;
  const mapping = ctx.mapping;
  const fields = contactToLeadFields(contact.properties, mapping);
  const mergeContext = (lastPushed: Record<string, unknown>, lastSyncedAt: number, propertySyncedAt: Record<string, number> = {}): MergeContext => ({
    contactUpdatedAt: contact.updatedAt,
    ...(contact.readAt === undefined ? {} : { contactReadAt: contact.readAt }),
    lastPushed,
    lastSyncedAt,
    propertySyncedAt,
    mapping,
    rule: ctx.rule ?? "latest_wins",
    propertyChanges: propertyChangesOf(ctx),
    ...(ctx.clockResolutionMs === undefined ? {} : { crmClockResolutionMs: ctx.clockResolutionMs }),
  });
  const fromOurPlatform = contact.properties[ctx.markerField] === ctx.marker;
  const onlyCreations = upserts.every((i) => i.change.kind !== "update");

  if (ctx.linked) {
    // Our own creation echoing back: the lead is the source, nothing to read from the contact.
    if (fromOurPlatform && onlyCreations) return uniform({ kind: "none" }, skipped("own_record"));
    const { conflicts, ...merge } = mergeContactIntoLead(
      ctx.linked.lead,
      withoutTakenEmail(fields, ctx),
      mergeContext(ctx.linked.lastPushed, ctx.linked.lastSyncedAt ?? 0, ctx.linked.propertySyncedAt),
    );
    // Nothing new on a contact we created: the echo of our own write.
    if (!hasChanges(merge.changes)) return { ...uniform({ kind: "none" }, fromOurPlatform ? skipped("own_record") : processed), conflicts };
    return { ...uniform({ kind: "update", lead: ctx.linked.lead, ...merge, createLink: false }, processed), conflicts };
  }

  if (fromOurPlatform) {
    // Created by our push; the echo only links it to the lead it came from (if that lead still exists).
    const match = ctx.leadWithEmail;
    const action: ContactAction = match && !match.linkedToOtherContact ? { kind: "link", leadId: match.lead.id } : { kind: "none" };
    return uniform(action, skipped("own_record"));
  }

  if (!fields.email) return uniform({ kind: "none" }, skipped("no_email"));

  const match = ctx.leadWithEmail;
  if (match) {
    if (match.linkedToOtherContact) return uniform({ kind: "none" }, skipped("lead_linked_to_other_contact"));
    const { conflicts, ...merge } = mergeContactIntoLead(match.lead, fields, mergeContext({}, 0));
    return { ...uniform({ kind: "update", lead: match.lead, ...merge, createLink: true }, processed), conflicts };
  }

  const created = { ...fields, email: fields.email };
  return uniform({ kind: "create", fields: created, fieldVersions: initialFieldVersions(created, contact.updatedAt) }, processed);
}

/** A linked contact whose email changed to one another lead of the org already has keeps the lead's email. */
function withoutTakenEmail(fields: LeadFieldValues, ctx: ContactContext): LeadFieldValues {
  const other = ctx.leadWithEmail;
  if (!other || !ctx.linked || other.lead.id === ctx.linked.lead.id) return fields;
  const { email: _taken, ...rest } = fields;
  return rest;
}
