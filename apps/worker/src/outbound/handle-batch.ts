import type { Config, Logger } from "@leadsync/config";
import { CrmRateLimitedError, isPermanentCrmError, normalizeEmail, withPushed, type UpsertInput, type UpsertResult } from "@leadsync/core";
import type { PrismaClient } from "@leadsync/db";
import { UnrecoverableError } from "bullmq";
import type { FlushFailures } from "../coalescer.js";
import { IntegrationPausedError, waitInsteadOfFailing } from "../job-failures.js";
import type { Integration, IntegrationDirectory } from "../integrations.js";
import { metrics } from "../metrics.js";
import { saveLinks, type PushedLink } from "./links.js";
import { carriesMarker, conflictUpdate, planPush, type PlannedUpdate } from "./plan-push.js";

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

type Rejection = Extract<UpsertResult, { ok: false }>;

/**
 * Pushes one integration's batch of leads: reloads them (current state, not the state when the job was queued),
 * creates the unlinked ones (one call per 100; a taken email links to that contact and updates it without the
 * marker), updates the linked ones with only what changed, and stores the links with what each contact now
 * holds. A lead HubSpot rejects fails alone (UnrecoverableError for a 4xx, the error itself when retryable);
 * the others succeed.
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
    const { crmName: crm, markerField, mapping } = directory.rulesFor(integration);
    const names: CrmNames = { crm, markerField, emailField: mapping.email };
    const blocked = outboundBlockedReason(integration);
    if (blocked) {
      log.info({ reason: blocked, leads: items.length }, `Not syncing leads to ${crm}: ${blocked}`);
      return new Map();
    }

    const leadIds = [...new Set(items.map((i) => i.leadId))];
    const rows = await prisma.lead.findMany({
      where: { id: { in: leadIds }, orgId: integration.orgId },
      include: { links: { where: { integrationId }, select: { externalId: true, lastPushed: true } } },
    });
    if (rows.length === 0) return new Map();
    const provider = directory.providerFor(integration);
    const plan = planPush(
      rows.map((row) => ({ ...row, link: row.links[0] })),
      { marker: config.leadSourceMarker, mapping, markerField, provider: integration.provider },
    );
    for (const leadId of plan.unchanged) {
      metrics.outboundLeads.inc({ result: "unchanged" });
      log.debug({ leadId }, `Lead ${leadId} unchanged since the last push; nothing sent to ${crm}`);
    }

    const rejected: Rejection[] = [];
    const links: PushedLink[] = [];
    const updates: PlannedUpdate[] = [...plan.updates];
    const failures = new Map<OutboundItem, Error>();

    if (plan.creates.length > 0) {
      const marked = plan.creates.filter((c) => carriesMarker(c, config.leadSourceMarker, markerField)).length;
      if (marked > 0) log.info({ leads: marked }, `Adding ${markerField} property to prevent sync loop`);
      const outcome = await attempt(() => provider.createContacts(plan.creates));
      // Nothing was written yet: a transient failure retries (or delays) the whole batch.
      if ("error" in outcome && !isPermanent(outcome.error)) throw logged(outcome.error, plan.creates.length, log, crm);
      if ("error" in outcome) {
        await failWhole(integration.id, outcome.error, plan.creates, items, failures, log, crm);
      } else {
        const created = applyCreates(plan.creates, outcome.results, log, names);
        links.push(...created.links);
        updates.push(...created.conflicts);
        rejected.push(...created.rejected);
      }
    }

    if (updates.length > 0) {
      const outcome = await attempt(() => provider.updateContacts(updates));
      if ("error" in outcome) {
        // Links made above are saved before the failure is passed on: a retry must not create those contacts again.
        links.push(...updates.filter(isNewLink).map((u) => ({ leadId: u.leadId, externalId: u.externalId, lastPushed: {} })));
        await failWhole(integration.id, outcome.error, updates, items, failures, log, crm);
      } else {
        const updated = applyUpdates(updates, outcome.results, log, crm);
        links.push(...updated.links);
        rejected.push(...updated.rejected);
      }
    }

    await saveLinks(prisma, integration.id, links);
    await failRejected(integration.id, rejected, items, failures, log, crm);
    return failures;
  };

  /** One provider write; a thrown error (transient, or a whole-call 4xx such as 401) comes back as a value. */
  async function attempt(write: () => Promise<UpsertResult[]>): Promise<{ results: UpsertResult[] } | { error: Error }> {
    try {
      return { results: await write() };
    } catch (error) {
      return { error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  /**
   * A call that failed as a whole after other writes of the batch went through: its leads fail (the error itself
   * when transient, so a 429 delays and a 5xx retries; UnrecoverableError with an error row otherwise).
   */
  async function failWhole(
    integrationId: string,
    error: Error,
    inputs: readonly { leadId: string }[],
    items: readonly OutboundItem[],
    failures: Map<OutboundItem, Error>,
    log: Logger,
    crm: string,
  ): Promise<void> {
    const leadIds = new Set(inputs.map((i) => i.leadId));
    logged(error, leadIds.size, log, crm);
    const permanent = isPermanent(error);
    if (permanent) await recordErrors(integrationId, [...leadIds].map((leadId) => ({ leadId, message: error.message })));
    const jobError = permanent ? new UnrecoverableError(error.message) : error;
    for (const item of items) if (leadIds.has(item.leadId)) failures.set(item, jobError);
  }

  async function failRejected(
    integrationId: string,
    rejected: readonly Rejection[],
    items: readonly OutboundItem[],
    failures: Map<OutboundItem, Error>,
    log: Logger,
    crm: string,
  ): Promise<void> {
    await recordErrors(integrationId, rejected.filter((r) => !r.retryable).map((r) => ({ leadId: r.leadId, message: r.message })));
    for (const r of rejected) {
      if (r.retryAfterMs !== undefined) {
        // Not written for want of budget: the job waits for it (delayed without using an attempt), nothing failed.
        metrics.outboundLeads.inc({ result: "waiting" });
        log.info({ leadId: r.leadId, retryAfterMs: r.retryAfterMs }, `Lead ${r.leadId} waits for ${crm}'s API budget`);
        const error = new CrmRateLimitedError(r.message, { retryAfterMs: r.retryAfterMs });
        for (const item of items) if (item.leadId === r.leadId) failures.set(item, error);
        continue;
      }
      metrics.outboundLeads.inc({ result: r.retryable ? "retry" : "failed" });
      log.error({ leadId: r.leadId, retryable: r.retryable }, `Failed to sync lead ${r.leadId} to ${crm}: ${r.message}`);
      const error = r.retryable ? new Error(r.message) : new UnrecoverableError(r.message);
      for (const item of items) if (item.leadId === r.leadId) failures.set(item, error);
    }
  }

  function applyCreates(creates: readonly UpsertInput[], results: readonly UpsertResult[], log: Logger, { crm, markerField, emailField }: CrmNames) {
    const byLead = new Map(creates.map((c) => [c.leadId, c]));
    const links: PushedLink[] = [];
    const conflicts: PlannedUpdate[] = [];
    const rejected: Rejection[] = [];
    const at = Date.now();
    for (const result of results) {
      const input = byLead.get(result.leadId) as UpsertInput;
      if (result.ok) {
        links.push({ leadId: result.leadId, externalId: result.externalId, lastPushed: withPushed({}, sentProperties(input, emailField), at) });
        metrics.outboundLeads.inc({ result: "created" });
        log.info({ leadId: result.leadId, objectId: result.externalId }, `Lead ${result.leadId} created as ${crm} contact ${result.externalId}`);
      } else if (result.existingId !== undefined) {
        conflicts.push(conflictUpdate(input, result.existingId, markerField));
        log.info(
          { leadId: result.leadId, objectId: result.existingId },
          `Lead ${result.leadId} linked to existing ${crm} contact ${result.existingId} (its email was taken; its ${markerField} is kept)`,
        );
      } else {
        rejected.push(result);
      }
    }
    return { links, conflicts, rejected };
  }

  function applyUpdates(updates: readonly PlannedUpdate[], results: readonly UpsertResult[], log: Logger, crm: string) {
    const byLead = new Map(updates.map((u) => [u.leadId, u]));
    const links: PushedLink[] = [];
    const rejected: Rejection[] = [];
    const at = Date.now();
    for (const result of results) {
      const update = byLead.get(result.leadId) as PlannedUpdate;
      if (!result.ok) {
        rejected.push(result);
        // A contact we just linked to (taken email) stays linked even when its update is refused.
        if (isNewLink(update)) links.push({ leadId: update.leadId, externalId: update.externalId, lastPushed: {} });
        continue;
      }
      links.push({ leadId: result.leadId, externalId: result.externalId, lastPushed: withPushed({}, update.properties, at) });
      metrics.outboundLeads.inc({ result: "updated" });
      log.info(
        { leadId: result.leadId, objectId: result.externalId, properties: Object.keys(update.properties) },
        `Lead ${result.leadId} updated in ${crm} contact ${result.externalId}`,
      );
    }
    return { links, rejected };
  }

  async function recordErrors(integrationId: string, errors: readonly { leadId: string; message: string }[]): Promise<void> {
    if (errors.length === 0) return;
    await prisma.integrationError.createMany({
      data: errors.map((e) => ({ integrationId, code: "outbound_failed", leadId: e.leadId, message: e.message })),
    });
  }
}

/** The CRM's names the log lines and writes use. */
interface CrmNames {
  crm: string;
  markerField: string;
  /** The CRM field the lead's email maps to. */
  emailField: string;
}

/** What a create wrote: its properties plus the normalised email the provider sets. */
function sentProperties(input: UpsertInput, emailField: string): Record<string, string> {
  return { ...input.properties, [emailField]: normalizeEmail(input.email) };
}

/** An update of a contact we only just linked to (its email was taken), not of an existing link. */
function isNewLink(update: PlannedUpdate): boolean {
  return Object.keys(update.pushed).length === 0;
}

/** A 4xx that retrying cannot fix (a 429 or a paused integration is a wait, not a failure). */
function isPermanent(error: Error): boolean {
  return isPermanentCrmError(error) && waitInsteadOfFailing(error) === undefined;
}

function logged(error: Error, leads: number, log: Logger, crm: string): Error {
  log.error({ err: error, leads }, `Failed to sync leads to ${crm}: ${error.message}`);
  return error;
}
