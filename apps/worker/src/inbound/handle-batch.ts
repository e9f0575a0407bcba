import type { Config, Logger } from "@leadsync/config";
import { DEFAULT_HUBSPOT_FIELD_MAPPING, LEAD_SOURCE_PROPERTY, normalizeEmail, type CrmContact } from "@leadsync/core";
import { ensureCrmImportForm, type Prisma, type PrismaClient } from "@leadsync/db";
import type { FlushFailures } from "../coalescer.js";
import { IntegrationPausedError } from "../job-failures.js";
import type { Integration, IntegrationDirectory } from "../integrations.js";
import { metrics } from "../metrics.js";
import { contactEmail, decideContact, type ContactDecision } from "./decide.js";
import { claimEvents, countReceived, eventRows } from "./event-claims.js";
import {
  createLeadsWithLinks,
  createLinks,
  deleteLinks,
  linksOfContacts,
  linksOfLeads,
  lockLeads,
  touchLinks,
  updateLeads,
  type NewLead,
} from "./lead-store.js";
import { withChanges, type LeadState } from "./merge-fields.js";
import { eventKind, type EventVerdict, type InboundItem } from "./types.js";

/** Properties read for every contact: the mapped lead fields and the origin marker. */
export const CONTACT_PROPERTIES = [...Object.values(DEFAULT_HUBSPOT_FIELD_MAPPING), LEAD_SOURCE_PROPERTY];

export interface InboundBatchDeps {
  config: Config;
  prisma: PrismaClient;
  directory: IntegrationDirectory;
  logger: Logger;
}

/** A batch may wait for row locks held by another process's batch of the same portal: more than Prisma's 5 s default. */
const TRANSACTION_LIMITS = { maxWait: 10_000, timeout: 30_000 };

const ignored = (reason: string): EventVerdict => ({ outcome: "ignored", reason });

/** Why an integration takes no inbound events, or null when it does. */
function inboundBlockedReason(integration: Integration): string | null {
  if (integration.status !== "active") return "inactive"; // disabled: the customer turned it off
  if (integration.syncDirection === "to_crm") return "direction";
  return null;
}

function groupByContact(items: readonly InboundItem[]): Map<string, InboundItem[]> {
  const groups = new Map<string, InboundItem[]>();
  for (const item of items) {
    const group = groups.get(item.event.objectId) ?? [];
    group.push(item);
    groups.set(item.event.objectId, group);
  }
  return groups;
}

/**
 * Handles one portal's batch: one read of the distinct contacts, then one transaction that claims the events
 * (idempotency), links/creates/updates the leads and bumps the status counters. Throws when the batch
 * failed as a whole (every job in it retries; nothing was committed).
 */
export function createInboundBatchHandler({ config, prisma, directory, logger }: InboundBatchDeps) {
  const formIds = new Map<string, string>();

  async function crmImportFormId(orgId: string): Promise<string> {
    const known = formIds.get(orgId);
    if (known) return known;
    const form = await ensureCrmImportForm(prisma, orgId);
    formIds.set(orgId, form.id);
    return form.id;
  }

  async function recordOnly(portalId: string, integrationId: string | null, items: readonly InboundItem[], verdict: (i: InboundItem) => EventVerdict) {
    const rows = eventRows(items, verdict);
    return prisma.$transaction(async (tx) => {
      const claimed = await claimEvents(tx, { integrationId, portalId }, rows);
      if (integrationId) await countReceived(tx, integrationId, rows.filter((r) => claimed.has(r.dedupeKey)));
      return claimed.size;
    });
  }

  return async function handleInboundBatch(portalId: string, items: readonly InboundItem[]): Promise<FlushFailures<InboundItem>> {
    const log = logger.child({ portalId });
    const integration = await directory.findByPortal(portalId);

    if (!integration) {
      log.warn({ portalId, events: items.length }, `Unknown portal ${portalId} - dropping ${items.length} event(s)`);
      const claimed = await recordOnly(portalId, null, items, () => ignored("unknown_portal"));
      metrics.unknownPortalEvents.inc(claimed);
      return new Map();
    }
    if (integration.status === "needs_reauth") throw new IntegrationPausedError(integration.id, "needs re-authorisation");
    const blocked = inboundBlockedReason(integration);
    if (blocked) {
      log.info({ integrationId: integration.id, reason: blocked, events: items.length }, "Inbound sync off for this integration - events ignored");
      await recordOnly(portalId, integration.id, items, () => ignored(blocked));
      return new Map();
    }

    const byContact = groupByContact(items.filter((i) => eventKind(i.event.subscriptionType) !== "unsupported"));
    const toRead = [...byContact].filter(([, group]) => group.some((i) => eventKind(i.event.subscriptionType) === "upsert")).map(([id]) => id);
    try {
      const read = toRead.length > 0 ? await directory.providerFor(integration).fetchContacts(toRead, CONTACT_PROPERTIES) : [];
      const contacts = new Map(read.map((c) => [c.id, c]));
      const formId = read.length > 0 ? await crmImportFormId(integration.orgId) : null;
      await applyBatch(integration, byContact, contacts, formId, items, log);
    } catch (error) {
      logFailure(log, items, error);
      throw error;
    }
    return new Map();
  };

  async function applyBatch(
    integration: Integration,
    byContact: Map<string, InboundItem[]>,
    contacts: Map<string, CrmContact>,
    formId: string | null,
    items: readonly InboundItem[],
    log: Logger,
  ): Promise<void> {
    const result = await prisma.$transaction(async (tx) => {
      const decisions = await decideAll(tx, integration, byContact, contacts);
      const rows = eventRows(items, (item) => {
        const decision = eventKind(item.event.subscriptionType) === "unsupported" ? undefined : decisions.get(item.event.objectId);
        return decision?.verdictFor(item) ?? ignored("unsupported_type");
      });
      const claimed = await claimEvents(tx, { integrationId: integration.id, portalId: integration.externalAccountId }, rows);
      const claimedRows = rows.filter((r) => claimed.has(r.dedupeKey));
      const contactsToApply = new Set(claimedRows.map((r) => r.item.event.objectId));
      const applied = await writeDecisions(tx, integration, decisions, contactsToApply, formId);
      await countReceived(tx, integration.id, claimedRows);
      return { applied, claimedRows, redeliveries: rows.length - claimedRows.length };
    }, TRANSACTION_LIMITS);
    for (const row of result.claimedRows) metrics.inboundEvents.inc({ outcome: row.verdict.outcome });
    logApplied(log, result.applied);
    if (result.redeliveries > 0) log.info({ redeliveries: result.redeliveries }, "Skipped events already processed (redelivery)");
  }

  async function decideAll(
    tx: Prisma.TransactionClient,
    integration: Integration,
    byContact: Map<string, InboundItem[]>,
    contacts: Map<string, CrmContact>,
  ): Promise<Map<string, ContactDecision>> {
    const contactIds = [...byContact.keys()];
    const links = await linksOfContacts(tx, integration.id, contactIds);
    const linkByContact = new Map(links.map((l) => [l.externalId, l]));
    const emails = [...new Set(contactIds.map((id) => contactEmail(contacts.get(id))).filter((e): e is string => e !== null))];
    const leads = await lockLeads(tx, integration.orgId, links.map((l) => l.leadId), emails);
    const leadById = new Map(leads.map((l) => [l.id, l]));
    const leadByEmail = new Map(leads.map((l) => [normalizeEmail(l.email), l]));
    const linksOfEmailLeads = await linksOfLeads(tx, integration.id, leads.map((l) => l.id));
    const contactOfLead = new Map(linksOfEmailLeads.map((l) => [l.leadId, l.externalId]));

    const decisions = new Map<string, ContactDecision>();
    for (const [contactId, group] of byContact) {
      const contact = contacts.get(contactId);
      const link = linkByContact.get(contactId);
      const linkedLead = link ? leadById.get(link.leadId) : undefined;
      const email = contactEmail(contact);
      const emailLead = email ? leadByEmail.get(email) : undefined;
      decisions.set(
        contactId,
        decideContact({
          contactId,
          items: group,
          contact,
          linked: link && linkedLead ? { lead: linkedLead, lastPushed: link.lastPushed } : undefined,
          leadWithEmail: emailLead
            ? { lead: emailLead, linkedToOtherContact: (contactOfLead.get(emailLead.id) ?? contactId) !== contactId }
            : undefined,
          marker: config.leadSourceMarker,
        }),
      );
    }
    return decisions;
  }

  async function writeDecisions(
    tx: Prisma.TransactionClient,
    integration: Integration,
    decisions: Map<string, ContactDecision>,
    contactsToApply: Set<string>,
    formId: string | null,
  ): Promise<AppliedChanges> {
    const applied: AppliedChanges = { created: new Map(), updated: new Map(), linked: new Map(), unlinked: [], skipped: new Map() };
    const newLeads: NewLead[] = [];
    const updates: LeadState[] = [];
    const newLinks: { leadId: string; externalId: string }[] = [];
    const synced: string[] = [];
    for (const [contactId, decision] of decisions) {
      if (!contactsToApply.has(contactId)) continue;
      if (decision.skipReason) applied.skipped.set(contactId, decision.skipReason);
      const action = decision.action;
      switch (action.kind) {
        case "create":
          newLeads.push({ fields: action.fields, fieldVersions: action.fieldVersions, externalId: contactId });
          break;
        case "update": {
          updates.push(withChanges(action.lead, action));
          if (action.createLink) newLinks.push({ leadId: action.lead.id, externalId: contactId });
          else synced.push(contactId);
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
    await touchLinks(tx, integration.id, synced);
    await deleteLinks(tx, integration.id, applied.unlinked.map((u) => u.contactId));
    return applied;
  }
}

interface AppliedChanges {
  created: Map<string, string>;
  updated: Map<string, string>;
  linked: Map<string, string>;
  unlinked: { contactId: string; leadId: string | null }[];
  skipped: Map<string, string>;
}

function logApplied(log: Logger, applied: AppliedChanges): void {
  for (const [contactId, leadId] of applied.created) {
    log.info({ objectId: contactId }, `Creating new lead from HubSpot contact ${contactId}`);
    log.info({ objectId: contactId, leadId }, `Lead created: ${leadId}`);
  }
  for (const [contactId, leadId] of applied.updated) {
    log.info({ objectId: contactId, leadId }, `Updating existing lead for contact ${contactId}`);
    log.info({ objectId: contactId, leadId }, `Lead updated: ${leadId}`);
  }
  for (const [contactId, leadId] of applied.linked) log.info({ objectId: contactId, leadId }, `Linked contact ${contactId} to lead ${leadId}`);
  for (const { contactId, leadId } of applied.unlinked) {
    log.info({ objectId: contactId, leadId }, `Contact ${contactId} deleted in HubSpot - unlinked, lead kept`);
  }
  for (const [contactId, reason] of applied.skipped) {
    if (reason === "own_record") log.info({ objectId: contactId, reason }, `Skipping contact ${contactId} - originated from our platform`);
    else if (reason === "no_email") log.warn({ objectId: contactId, reason }, "Skipping contact - no email address");
    else if (reason === "not_found") log.info({ objectId: contactId, reason }, `Skipping contact ${contactId} - not found in HubSpot (deleted)`);
    else log.warn({ objectId: contactId, reason }, `Skipping contact ${contactId} - ${reason}`);
  }
}

function logFailure(log: Logger, items: readonly InboundItem[], error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const kinds = new Set(items.map((i) => (i.event.subscriptionType === "contact.creation" ? "creation" : "update")));
  for (const kind of kinds) {
    log.error({ err: error, events: items.length }, `Failed to handle contact ${kind}: ${message}`);
  }
}
