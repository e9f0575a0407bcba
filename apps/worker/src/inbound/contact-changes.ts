import type { Config, Logger } from "@leadsync/config";
import {
  LEAD_FIELDS,
  normalizeEmail,
  type ConflictRule,
  type ContactDeletedPolicy,
  type CrmContact,
  type FieldMapping,
  type LeadFieldValues,
  type PushedFields,
} from "@leadsync/core";
import type { Prisma } from "@leadsync/db";
import type { Integration } from "../integrations.js";
import { contactEmail, decideContact, type ContactDecision } from "./decide.js";
import { createLeadsWithLinks, createLinks, deleteLinks, lockLeadsOfContacts, recordPulled, updateLeads, type LinkRow, type NewLead } from "./lead-store.js";
import { archiveLeads, forgetUnlinked, rememberUnlinked } from "./lifecycle.js";
import { withChanges, type FieldConflict, type LeadState } from "./merge-fields.js";
import { contactIdOf, type InboundItem } from "./types.js";

/**
 * The part of inbound sync shared by webhook batches and fetched snapshots (backfill, reconciliation): inside
 * one transaction, decide what each contact does to the leads, then write all decisions in a few statements.
 */

/** A batch may wait for row locks held by another process's batch of the same portal: more than Prisma's 5 s default. */
export const TRANSACTION_LIMITS = { maxWait: 10_000, timeout: 30_000 };

export interface AppliedChanges {
  created: Map<string, string>;
  updated: Map<string, string>;
  linked: Map<string, string>;
  unlinked: { contactId: string; leadId: string | null }[];
  skipped: Map<string, string>;
  conflicts: { contactId: string; conflict: FieldConflict }[];
  archived: string[];
}

/** The integration's sync settings the decisions depend on. */
export interface SyncRules {
  mapping: FieldMapping;
  rule: ConflictRule;
  onContactDeleted: ContactDeletedPolicy;
  /** The CRM field that marks records our platform created (the provider client's markerField). */
  markerField: string;
  /** The CRM's name as people say it (HubSpot, Salesforce…), for the log lines. */
  crmName: string;
  /** The CRM's timestamp resolution (ms). */
  clockResolutionMs: number;
}

/** Decides every contact of the batch against the leads it may touch, which stay locked until the transaction ends. */
export async function decideAll(
  tx: Prisma.TransactionClient,
  config: Config,
  integration: Integration,
  byContact: ReadonlyMap<string, readonly InboundItem[]>,
  contacts: ReadonlyMap<string, CrmContact>,
  rules: SyncRules,
): Promise<Map<string, ContactDecision>> {
  const contactIds = [...byContact.keys()];
  const emails = [...new Set(contactIds.map((id) => contactEmail(contacts.get(id), rules.mapping)).filter((e): e is string => e !== null))];
  const locked = await lockLeadsOfContacts(tx, { orgId: integration.orgId, integrationId: integration.id }, contactIds, emails);
  const leadByEmail = new Map(locked.map(({ lead }) => [normalizeEmail(lead.email), lead]));
  const linkByContact = new Map<string, { link: LinkRow; lead: LeadState }>();
  const contactOfLead = new Map<string, string>();
  for (const { lead, link } of locked) {
    if (!link) continue;
    linkByContact.set(link.externalId, { link, lead });
    contactOfLead.set(lead.id, link.externalId);
  }
  // Two unlinked contacts with one email in the same batch: the first one creates (or links) the lead.
  const emailsTaken = new Set<string>();

  const decisions = new Map<string, ContactDecision>();
  for (const [contactId, group] of byContact) {
    const contact = contacts.get(contactId);
    const linked = linkByContact.get(contactId);
    const email = contactEmail(contact, rules.mapping);
    const emailLead = email ? leadByEmail.get(email) : undefined;
    const decision = decideContact({
      contactId,
      items: group,
      contact,
      linked: linked
        ? { lead: linked.lead, lastPushed: linked.link.lastPushed, lastSyncedAt: linked.link.lastSyncedAt, propertySyncedAt: linked.link.propertySyncedAt }
        : undefined,
      leadWithEmail: emailLead
        ? { lead: emailLead, linkedToOtherContact: (contactOfLead.get(emailLead.id) ?? contactId) !== contactId }
        : undefined,
      marker: config.leadSourceMarker,
      mapping: rules.mapping,
      rule: rules.rule,
      markerField: rules.markerField,
      clockResolutionMs: rules.clockResolutionMs,
    });
    const claimsEmail = decision.action.kind === "create" || decision.action.kind === "link" || (decision.action.kind === "update" && decision.action.createLink);
    if (claimsEmail && email) {
      if (emailsTaken.has(email)) {
        decisions.set(contactId, { action: { kind: "none" }, verdictFor: () => ({ outcome: "skipped", reason: "duplicate_email" }), skipReason: "duplicate_email" });
        continue;
      }
      emailsTaken.add(email);
    }
    decisions.set(contactId, decision);
  }
  return decisions;
}

/** Writes the decisions of the contacts in `contactsToApply` (the others were redeliveries). */
export async function writeDecisions(
  tx: Prisma.TransactionClient,
  integration: Integration,
  decisions: ReadonlyMap<string, ContactDecision>,
  contactsToApply: ReadonlySet<string>,
  formId: string | null,
  rules: Pick<SyncRules, "mapping" | "onContactDeleted">,
): Promise<AppliedChanges> {
  const applied: AppliedChanges = {
    created: new Map(),
    updated: new Map(),
    linked: new Map(),
    unlinked: [],
    skipped: new Map(),
    conflicts: [],
    archived: [],
  };
  const newLeads: NewLead[] = [];
  const updates: LeadState[] = [];
  const newLinks: { leadId: string; externalId: string }[] = [];
  const pulled: { externalId: string; fields: PushedFields }[] = [];
  for (const [contactId, decision] of decisions) {
    if (!contactsToApply.has(contactId)) continue;
    if (decision.skipReason) applied.skipped.set(contactId, decision.skipReason);
    const action = decision.action;
    for (const conflict of decision.conflicts ?? []) applied.conflicts.push({ contactId, conflict });
    switch (action.kind) {
      case "create":
        // The new link takes the pulled values as it is inserted (one statement less than recordPulled).
        newLeads.push({
          fields: action.fields,
          fieldVersions: action.fieldVersions,
          externalId: contactId,
          pulled: pulledFields(action.fields, action.fieldVersions, rules.mapping),
        });
        break;
      case "update": {
        updates.push(withChanges(action.lead, action));
        if (action.createLink) newLinks.push({ leadId: action.lead.id, externalId: contactId });
        pulled.push({ externalId: contactId, fields: pulledFields(action.changes, action.fieldVersions, rules.mapping) });
        applied.updated.set(contactId, action.lead.id);
        break;
      }
      case "link":
        newLinks.push({ leadId: action.leadId, externalId: contactId });
        applied.linked.set(contactId, action.leadId);
        break;
      case "unlink":
        applied.unlinked.push({ contactId, leadId: action.leadId });
        break;
      case "none":
        break;
    }
  }
  if (newLeads.length > 0) {
    if (!formId) throw new Error("no CRM Import form for new leads");
    applied.created = await createLeadsWithLinks(tx, { orgId: integration.orgId, formId, integrationId: integration.id }, newLeads);
  }
  await updateLeads(tx, updates);
  await createLinks(tx, integration.id, newLinks);
  await recordPulled(tx, integration.id, pulled);
  await forgetUnlinked(tx, integration.id, newLinks);
  const unlinkedLeads = applied.unlinked.flatMap((u) => (u.leadId ? [{ externalId: u.contactId, leadId: u.leadId }] : []));
  await deleteLinks(tx, integration.id, applied.unlinked.map((u) => u.contactId));
  await rememberUnlinked(tx, integration.id, unlinkedLeads);
  if (rules.onContactDeleted === "archive") {
    applied.archived = unlinkedLeads.map((u) => u.leadId);
    await archiveLeads(tx, applied.archived);
  }
  return applied;
}

/** The CRM values a lead took, as `lastPushed` entries (property → value and the change's time). */
function pulledFields(values: LeadFieldValues, versions: Record<string, number>, mapping: FieldMapping): PushedFields {
  const fields: PushedFields = {};
  for (const field of LEAD_FIELDS) {
    const value = values[field];
    if (value !== undefined && value !== null) fields[mapping[field]] = { value, at: versions[field] ?? 0 };
  }
  return fields;
}

export function logApplied(log: Logger, applied: AppliedChanges, crmName: string): void {
  for (const [contactId, leadId] of applied.created) {
    log.info({ objectId: contactId }, `Creating new lead from ${crmName} contact ${contactId}`);
    log.info({ objectId: contactId, leadId }, `Lead created: ${leadId}`);
  }
  for (const [contactId, leadId] of applied.updated) {
    log.info({ objectId: contactId, leadId }, `Updating existing lead for contact ${contactId}`);
    log.info({ objectId: contactId, leadId }, `Lead updated: ${leadId}`);
  }
  for (const [contactId, leadId] of applied.linked) log.info({ objectId: contactId, leadId }, `Linked contact ${contactId} to lead ${leadId}`);
  const archived = new Set(applied.archived);
  for (const { contactId, leadId } of applied.unlinked) {
    const kept = leadId && archived.has(leadId) ? "lead archived" : "lead kept";
    log.info({ objectId: contactId, leadId }, `Contact ${contactId} deleted in ${crmName} - unlinked, ${kept}`);
  }
  // Values stay out of info logs (personal data): field, both times and the rule say what happened.
  for (const { contactId, conflict } of applied.conflicts) {
    log.info(
      { objectId: contactId, ...conflict },
      `Conflict on ${conflict.field} for lead ${conflict.leadId}: ${conflict.rule} kept the ${conflict.winner === "crm" ? crmName : "platform"} value`,
    );
  }
  for (const [contactId, reason] of applied.skipped) {
    if (reason === "own_record") log.info({ objectId: contactId, reason }, `Skipping contact ${contactId} - originated from our platform`);
    else if (reason === "no_email") log.warn({ objectId: contactId, reason }, "Skipping contact - no email address");
    else if (reason === "not_found") log.info({ objectId: contactId, reason }, `Skipping contact ${contactId} - not found in ${crmName} (deleted)`);
    else log.warn({ objectId: contactId, reason }, `Skipping contact ${contactId} - ${reason}`);
  }
}

export function groupByContact(items: readonly InboundItem[]): Map<string, InboundItem[]> {
  const groups = new Map<string, InboundItem[]>();
  for (const item of items) {
    const contactId = contactIdOf(item.change);
    const group = groups.get(contactId) ?? [];
    group.push(item);
    groups.set(contactId, group);
  }
  return groups;
}
