import { lineLogger, type Config, type Logger } from "@leadsync/config";
import { propertiesToRead, type CrmContact } from "@leadsync/core";
import { ensureCrmImportForm, type PrismaClient } from "@leadsync/db";
import type { FlushFailures } from "../coalescer.js";
import { IntegrationPausedError, waitInsteadOfFailing } from "../job-failures.js";
import type { Integration, IntegrationDirectory } from "../integrations.js";
import { metrics } from "../metrics.js";
import { TRANSACTION_LIMITS, decideAll, groupByContact, logApplied, writeDecisions, type SyncRules } from "./contact-changes.js";
import { claimEvents, countReceived, eventRows, type ClaimScope } from "./event-claims.js";
import { eraseForPrivacy, relinkMergedContacts } from "./lifecycle.js";
import { retryLostRaces } from "./lost-race.js";
import { knownContacts, verdictWithoutRead } from "./prefilter.js";
import { contactIdOf, eventKind, mergedIdsOf, type EventVerdict, type InboundItem } from "./types.js";

export interface InboundBatchDeps {
  config: Config;
  prisma: PrismaClient;
  directory: IntegrationDirectory;
  logger: Logger;
}

const ignored = (reason: string): EventVerdict => ({ outcome: "ignored", reason });

/** Why an integration takes no inbound events, or null when it does. */
function inboundBlockedReason(integration: Integration): string | null {
  if (integration.status !== "active") return "inactive"; // disabled: the customer turned it off
  if (integration.syncDirection === "to_crm") return "direction";
  return null;
}

/**
 * Handles one portal's batch: one read of the distinct contacts, then one transaction that claims the events
 * (idempotency), links/creates/updates the leads and bumps the status counters. Throws when the batch
 * failed as a whole (every job in it retries; nothing was committed).
 */
export function createInboundBatchHandler({ config, prisma, directory, logger }: InboundBatchDeps) {
  const formIds = new Map<string, string>();
  /** For the per-contact lines (created, updated, skipped…): ids and reasons only. */
  const lines = lineLogger(logger);

  async function crmImportFormId(orgId: string): Promise<string> {
    const known = formIds.get(orgId);
    if (known) return known;
    const form = await ensureCrmImportForm(prisma, orgId);
    formIds.set(orgId, form.id);
    return form.id;
  }

  async function recordOnly(scope: ClaimScope, items: readonly InboundItem[], verdict: (i: InboundItem) => EventVerdict) {
    const rows = eventRows(items, verdict);
    const { integrationId } = scope;
    return prisma.$transaction(async (tx) => {
      const claimed = await claimEvents(tx, scope, rows);
      if (integrationId) await countReceived(tx, integrationId, rows.filter((r) => claimed.has(r.dedupeKey)));
      return claimed.size;
    });
  }

  /**
   * The coalescer runs a portal's batches side by side only when they share no contact; two such batches can still
   * meet on a lead (one email), which the transaction's locks and `applyWithRetry` settle.
   */
  return async function handleInboundBatch(_accountKey: string, items: readonly InboundItem[]): Promise<FlushFailures<InboundItem>> {
    const first = items[0]?.change;
    if (!first) return new Map();
    const { provider, accountId } = first;
    const log = logger.child({ provider, accountId });
    const integration = await directory.findByAccount(provider, accountId);

    if (!integration) {
      const crm = directory.moduleOf({ provider: provider as Integration["provider"] }).displayName;
      log.warn({ accountId, events: items.length }, `Unknown ${crm} account ${accountId} - dropping ${items.length} event(s)`);
      const claimed = await recordOnly({ integrationId: null, provider, accountId }, items, () => ignored("unknown_portal"));
      metrics.unknownPortalEvents.inc(claimed);
      return new Map();
    }
    if (integration.status === "needs_reauth") throw new IntegrationPausedError(integration.id, "needs re-authorisation");
    const blocked = inboundBlockedReason(integration);
    if (blocked) {
      log.info({ integrationId: integration.id, reason: blocked, events: items.length }, "Inbound sync off for this integration - events ignored");
      await recordOnly({ integrationId: integration.id, provider, accountId }, items, () => ignored(blocked));
      return new Map();
    }

    const rules = directory.rulesFor(integration);
    const byContact = groupByContact(items.filter((i) => eventKind(i.change) !== "unsupported"));
    try {
      const known = await knownContacts(prisma, integration.id, [...byContact.keys()]);
      const prefilter = { known, mapping: rules.mapping, rule: rules.rule, marker: config.leadSourceMarker };
      const settled = new Map<InboundItem, EventVerdict>();
      for (const item of [...byContact.values()].flat()) {
        const verdict = verdictWithoutRead(item, prefilter);
        if (verdict) settled.set(item, verdict);
      }
      const privacyDeleted = new Set([...byContact].filter(([, group]) => group.some(isPrivacyDeletion)).map(([id]) => id));
      const toDecide = new Map([...byContact].filter(([id, group]) => !privacyDeleted.has(id) && group.some((i) => !settled.has(i))));
      const needed = [...toDecide].filter(([, group]) => group.some((i) => eventKind(i.change) === "upsert" && !settled.has(i)));
      // Records the feed carried whole (Pipedrive) need no read: the latest carried state stands for it.
      const carried = new Map<string, CrmContact>();
      for (const [id, group] of needed) {
        const latest = group.filter((i) => i.change.record !== undefined).sort((a, b) => b.change.occurredAt - a.change.occurredAt)[0];
        // A carried record is the CRM's state when the feed delivered it.
        if (latest?.change.record && group.every((i) => i.change.record !== undefined || settled.has(i))) carried.set(id, { ...latest.change.record, readAt: latest.receivedAt });
      }
      const toRead = needed.map(([id]) => id).filter((id) => !carried.has(id));

      // The read reflects the CRM at least as of when it started.
      const readAt = Date.now();
      const read = toRead.length > 0 ? await directory.providerFor(integration).fetchContacts(toRead, propertiesToRead(rules.mapping, rules.markerField)) : [];
      const contacts = new Map([...carried, ...read.map((c): [string, CrmContact] => [c.id, { ...c, readAt }])]);
      const formId = contacts.size > 0 ? await crmImportFormId(integration.orgId) : null;
      await applyWithRetry({ integration, rules, toDecide, privacyDeleted, settled, contacts, formId, items, log });
    } catch (error) {
      logFailure(log, items, error);
      throw error;
    }
    return new Map();
  };

  /**
   * applyBatch, again at once when its transaction lost a race to a concurrent one (a lead created with the same
   * email in between, or a deadlock between the two): the next try sees the winner's rows and links to them.
   */
  async function applyWithRetry(batch: Parameters<typeof applyBatch>[0]): Promise<void> {
    return retryLostRaces(() => applyBatch(batch), batch.log);
  }

  async function applyBatch(batch: {
    integration: Integration;
    rules: SyncRules;
    /** Contacts whose events need a decision (the others were settled without a read or are privacy-deleted). */
    toDecide: Map<string, InboundItem[]>;
    privacyDeleted: Set<string>;
    settled: Map<InboundItem, EventVerdict>;
    contacts: Map<string, CrmContact>;
    formId: string | null;
    items: readonly InboundItem[];
    log: Logger;
  }): Promise<void> {
    const { integration, rules, toDecide, privacyDeleted, settled, contacts, formId, items, log } = batch;
    const result = await prisma.$transaction(async (tx) => {
      // Idempotent steps first: a redelivered merge or privacy deletion finds nothing left to do.
      const erased = await eraseForPrivacy(tx, integration.id, [...privacyDeleted]);
      await relinkMergedContacts(tx, integration.id, merges(toDecide));
      const decisions = await decideAll(tx, config, integration, toDecide, contacts, rules);
      const rows = eventRows(items, (item) => {
        const contactId = contactIdOf(item.change);
        const settledVerdict = settled.get(item);
        if (eventKind(item.change) === "unsupported") return ignored("unsupported_type");
        if (privacyDeleted.has(contactId)) return eventKind(item.change) === "delete" ? processed : skipped("privacy_deleted");
        return settledVerdict ?? decisions.get(contactId)?.verdictFor(item) ?? ignored("unsupported_type");
      });
      const claimed = await claimEvents(tx, { integrationId: integration.id, provider: integration.provider, accountId: integration.externalAccountId }, rows);
      const claimedRows = rows.filter((r) => claimed.has(r.dedupeKey));
      const contactsToApply = new Set(claimedRows.map((r) => contactIdOf(r.item.change)));
      const applied = await writeDecisions(tx, integration, decisions, contactsToApply, formId, rules);
      await countReceived(tx, integration.id, claimedRows);
      return { applied, erased, claimedRows, redeliveries: rows.length - claimedRows.length };
    }, TRANSACTION_LIMITS);
    for (const row of result.claimedRows) metrics.inboundEvents.inc({ outcome: row.verdict.outcome, reason: row.verdict.reason ?? "none" });
    logApplied(lines.child({ provider: integration.provider, accountId: integration.externalAccountId }), result.applied, rules.crmName);
    for (const [contactId, leadId] of result.erased) log.info({ objectId: contactId, leadId }, `Contact ${contactId} privacy-deleted in ${rules.crmName} - lead ${leadId} erased`);
    const echoes = result.claimedRows.filter((r) => r.verdict.reason === "echo").length;
    if (echoes > 0) log.info({ echoes }, `Dropped ${echoes} echo(es) of our own writes`);
    if (result.redeliveries > 0) log.info({ redeliveries: result.redeliveries }, "Skipped events already processed (redelivery)");
  }
}


const processed: EventVerdict = { outcome: "processed", reason: null };
const skipped = (reason: string): EventVerdict => ({ outcome: "skipped", reason });

function isPrivacyDeletion(item: InboundItem): boolean {
  return item.change.kind === "privacy_delete";
}

function merges(byContact: Map<string, InboundItem[]>) {
  return [...byContact].flatMap(([survivorId, group]) =>
    group.filter((i) => i.change.kind === "merge").map((i) => ({ survivorId, mergedIds: mergedIdsOf(i.change) })),
  );
}

function logFailure(log: Logger, items: readonly InboundItem[], error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const kinds = new Set(items.map((i) => (i.change.kind === "create" ? "creation" : "update")));
  // A rate limit or a paused integration delays the jobs without using an attempt: not a failure, not an error line.
  const waitMs = waitInsteadOfFailing(error);
  for (const kind of kinds) {
    if (waitMs !== undefined) log.info({ events: items.length, waitMs }, `Deferred contact ${kind} by ${Math.ceil(waitMs)} ms: ${message}`);
    else log.error({ err: error, events: items.length }, `Failed to handle contact ${kind}: ${message}`);
  }
}
