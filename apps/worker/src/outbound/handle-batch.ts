import type { Config, Logger } from "@leadsync/config";
import { normalizeEmail, type UpsertInput, type UpsertResult } from "@leadsync/core";
import type { PrismaClient } from "@leadsync/db";
import { HubSpotApiError } from "@leadsync/hubspot";
import { UnrecoverableError } from "bullmq";
import type { FlushFailures } from "../coalescer.js";
import { IntegrationPausedError, waitInsteadOfFailing } from "../job-failures.js";
import type { Integration, IntegrationDirectory, SyncProvider } from "../integrations.js";
import { metrics } from "../metrics.js";
import { carriesMarker, contactPropertiesFor, type OutboundLead } from "./contact-properties.js";
import { saveLinks } from "./links.js";

/** One lead to push, handed from a `crm-outbound` job to its integration's batch. */
export interface OutboundItem {
  leadId: string;
  jobId: string;
}

export interface OutboundBatchDeps {
  config: Config;
  prisma: PrismaClient;
  directory: IntegrationDirectory;
  logger: Logger;
}

/** Why leads of this integration are not pushed, or null when they are. */
function outboundBlockedReason(integration: Integration): string | null {
  if (integration.status !== "active") return `integration ${integration.status}`;
  if (!integration.autoSyncEnabled) return "auto-sync disabled";
  if (integration.syncDirection === "from_crm") return "sync direction from_crm";
  return null;
}

/**
 * Pushes one integration's batch of leads: reloads them (current state, not the state when the job was
 * queued), upserts the contacts by email in one call and stores the links. A lead HubSpot rejects fails
 * alone (UnrecoverableError for a 4xx, plain Error for a retryable one); the others succeed.
 */
export function createOutboundBatchHandler({ config, prisma, directory, logger }: OutboundBatchDeps) {
  return async function handleOutboundBatch(integrationId: string, items: readonly OutboundItem[]): Promise<FlushFailures<OutboundItem>> {
    const log = logger.child({ integrationId });
    const integration = await directory.findById(integrationId);
    if (!integration) {
      log.warn({ leads: items.length }, "Integration not found - outbound jobs dropped");
      return new Map();
    }
    if (integration.status === "needs_reauth") throw new IntegrationPausedError(integration.id, "needs re-authorisation");
    const blocked = outboundBlockedReason(integration);
    if (blocked) {
      log.info({ reason: blocked, leads: items.length }, `Not syncing leads to HubSpot: ${blocked}`);
      return new Map();
    }

    const leadIds = [...new Set(items.map((i) => i.leadId))];
    const leads = await prisma.lead.findMany({
      where: { id: { in: leadIds }, orgId: integration.orgId },
      include: { links: { where: { integrationId }, select: { externalId: true, lastPushed: true } } },
    });
    if (leads.length === 0) return new Map();
    const provider = directory.providerFor(integration);

    const unlinked = leads.filter((l) => l.links.length === 0).map((l) => l.email);
    const existing = await existingEmails(provider, unlinked);

    const inputs: UpsertInput[] = leads.map((lead) => {
      const link = lead.links[0];
      const withMarker = carriesMarker(lead as OutboundLead, {
        lastPushed: link ? (link.lastPushed as Record<string, unknown>) : undefined,
        existsInCrm: existing.has(normalizeEmail(lead.email)),
        marker: config.leadSourceMarker,
      });
      if (withMarker) log.info({ leadId: lead.id }, "Adding lead_source_system property to prevent sync loop");
      return { leadId: lead.id, email: lead.email, properties: contactPropertiesFor(lead as OutboundLead, withMarker, config.leadSourceMarker) };
    });

    let results: UpsertResult[];
    try {
      results = await provider.upsertContacts(inputs);
    } catch (error) {
      if (error instanceof HubSpotApiError && !error.retryable && waitInsteadOfFailing(error) === undefined) {
        return failAll(integration, items, inputs, error.message);
      }
      log.error({ err: error, leads: inputs.length }, `Failed to sync leads to HubSpot: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
    return applyResults(integration, items, inputs, results, log);
  };

  /** Emails that already have a contact in the CRM (created there by a person, or by an earlier push we lost track of). */
  async function existingEmails(provider: SyncProvider, emails: readonly string[]): Promise<Set<string>> {
    if (emails.length === 0) return new Set();
    const found = await provider.fetchContactsByEmail(emails, ["email"]);
    return new Set(found.map((c) => c.properties["email"]).filter((e): e is string => !!e).map(normalizeEmail));
  }

  async function applyResults(
    integration: Integration,
    items: readonly OutboundItem[],
    inputs: readonly UpsertInput[],
    results: readonly UpsertResult[],
    log: Logger,
  ): Promise<FlushFailures<OutboundItem>> {
    const pushed = new Map(inputs.map((i) => [i.leadId, i.properties]));
    const succeeded = results.filter((r): r is Extract<UpsertResult, { ok: true }> => r.ok);
    await saveLinks(
      prisma,
      integration.id,
      succeeded.map((r) => ({ leadId: r.leadId, externalId: r.externalId, lastPushed: pushed.get(r.leadId) ?? {} })),
    );
    for (const r of succeeded) {
      metrics.outboundLeads.inc({ result: "synced" });
      log.info({ leadId: r.leadId, objectId: r.externalId, created: r.created }, `Lead ${r.leadId} synced to HubSpot contact ${r.externalId}`);
    }

    const failures = new Map<OutboundItem, Error>();
    const rejected = results.filter((r): r is Extract<UpsertResult, { ok: false }> => !r.ok);
    const permanent = rejected.filter((r) => !r.retryable);
    await recordErrors(integration.id, permanent.map((r) => ({ leadId: r.leadId, message: r.message })));
    for (const r of rejected) {
      metrics.outboundLeads.inc({ result: r.retryable ? "retry" : "failed" });
      log.error({ leadId: r.leadId, retryable: r.retryable }, `Failed to sync lead ${r.leadId} to HubSpot: ${r.message}`);
      const error = r.retryable ? new Error(r.message) : new UnrecoverableError(r.message);
      for (const item of items) if (item.leadId === r.leadId) failures.set(item, error);
    }
    return failures;
  }

  async function failAll(integration: Integration, items: readonly OutboundItem[], inputs: readonly UpsertInput[], message: string) {
    await recordErrors(integration.id, inputs.map((i) => ({ leadId: i.leadId, message })));
    logger.error({ integrationId: integration.id, leads: inputs.length }, `Failed to sync leads to HubSpot: ${message}`);
    const error = new UnrecoverableError(message);
    return new Map(items.map((item) => [item, error]));
  }

  async function recordErrors(integrationId: string, errors: readonly { leadId: string; message: string }[]): Promise<void> {
    if (errors.length === 0) return;
    await prisma.integrationError.createMany({
      data: errors.map((e) => ({ integrationId, code: "outbound_failed", leadId: e.leadId, message: e.message })),
    });
  }
}
