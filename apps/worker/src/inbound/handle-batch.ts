import type { Config, Logger } from "@leadsync/config";
import { DEFAULT_HUBSPOT_FIELD_MAPPING, LEAD_SOURCE_PROPERTY, type CrmContact } from "@leadsync/core";
import { ensureCrmImportForm, type PrismaClient } from "@leadsync/db";
import type { FlushFailures } from "../coalescer.js";
import { IntegrationPausedError } from "../job-failures.js";
import type { Integration, IntegrationDirectory } from "../integrations.js";
import { metrics } from "../metrics.js";
import { TRANSACTION_LIMITS, decideAll, groupByContact, logApplied, writeDecisions } from "./contact-changes.js";
import { claimEvents, countReceived, eventRows } from "./event-claims.js";
import { eventKind, type EventVerdict, type InboundItem } from "./types.js";

/** Properties read for every contact: the mapped lead fields and the origin marker. */
export const CONTACT_PROPERTIES = [...Object.values(DEFAULT_HUBSPOT_FIELD_MAPPING), LEAD_SOURCE_PROPERTY];

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
      const decisions = await decideAll(tx, config, integration, byContact, contacts);
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
}

function logFailure(log: Logger, items: readonly InboundItem[], error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const kinds = new Set(items.map((i) => (i.event.subscriptionType === "contact.creation" ? "creation" : "update")));
  for (const kind of kinds) {
    log.error({ err: error, events: items.length }, `Failed to handle contact ${kind}: ${message}`);
  }
}
