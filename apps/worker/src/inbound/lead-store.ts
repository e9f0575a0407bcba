import { randomUUID } from "node:crypto";
import { readPushedFields, type LeadFieldValues, type PushedFields } from "@leadsync/core";
import type { Prisma } from "@leadsync/db";
import type { LeadState } from "./merge-fields.js";

/** The lead reads and batched writes of one inbound transaction. */

export interface LinkRow {
  leadId: string;
  externalId: string;
  lastPushed: Record<string, unknown>;
  /** ms epoch; 0 when never synced. */
  lastSyncedAt: number;
  /** Per property, when its value was last in sync with the CRM (our push or our pull of it); absent when unknown. */
  propertySyncedAt: Record<string, number>;
}

export function asObject(value: unknown): Record<string, unknown> {
  if (typeof value === "string") return asObject(JSON.parse(value));
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function toLinkRow(r: { leadId: string; externalId: string; lastPushed: unknown; lastSyncedAt: Date | null }): LinkRow {
  return {
    leadId: r.leadId,
    externalId: r.externalId,
    lastPushed: pushedValues(r.lastPushed),
    lastSyncedAt: r.lastSyncedAt?.getTime() ?? 0,
    propertySyncedAt: pushedTimes(r.lastPushed),
  };
}

/** The times of a link's `lastPushed` entries that have one (the older flat shape has none). */
export function pushedTimes(stored: unknown): Record<string, number> {
  const entries = Object.entries(readPushedFields(typeof stored === "string" ? JSON.parse(stored) : stored));
  return Object.fromEntries(entries.filter(([, f]) => f.at > 0).map(([p, f]) => [p, f.at]));
}

/** The values of a link's `lastPushed` (either stored shape), per property. */
export function pushedValues(stored: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(readPushedFields(typeof stored === "string" ? JSON.parse(stored) : stored)).map(([p, f]) => [p, f.value]));
}

/**
 * Records what the CRM holds after we applied its values to the lead (merged into `lastPushed`, as the outbound
 * worker expects: a value the lead took from the CRM is never pushed back) and the sync time.
 */
export async function recordPulled(tx: Prisma.TransactionClient, integrationId: string, pulled: readonly { externalId: string; fields: PushedFields }[]): Promise<void> {
  if (pulled.length === 0) return;
  await tx.$executeRaw`
    UPDATE lead_crm_links AS l
    SET last_pushed = l.last_pushed || v.fields::jsonb, last_synced_at = now(), updated_at = now()
    FROM unnest(${pulled.map((p) => p.externalId)}::text[], ${pulled.map((p) => JSON.stringify(p.fields))}::text[]) AS v(external_id, fields)
    WHERE l.integration_id = ${integrationId}::uuid AND l.external_id = v.external_id`;
}

export async function linksOfContacts(tx: Prisma.TransactionClient, integrationId: string, contactIds: readonly string[]): Promise<LinkRow[]> {
  if (contactIds.length === 0) return [];
  const rows = await tx.leadCrmLink.findMany({
    where: { integrationId, externalId: { in: [...contactIds] } },
    select: { leadId: true, externalId: true, lastPushed: true, lastSyncedAt: true },
  });
  return rows.map(toLinkRow);
}

export async function linksOfLeads(tx: Prisma.TransactionClient, integrationId: string, leadIds: readonly string[]): Promise<LinkRow[]> {
  if (leadIds.length === 0) return [];
  const rows = await tx.leadCrmLink.findMany({
    where: { integrationId, leadId: { in: [...leadIds] } },
    select: { leadId: true, externalId: true, lastPushed: true, lastSyncedAt: true },
  });
  return rows.map(toLinkRow);
}

/**
 * The org's leads by id or email, locked until the transaction ends (in id order, so two batches touching
 * the same leads queue up instead of deadlocking) — a concurrent batch cannot apply an older read in between.
 */
export async function lockLeads(
  tx: Prisma.TransactionClient,
  orgId: string,
  ids: readonly string[],
  emails: readonly string[],
): Promise<LeadState[]> {
  if (ids.length === 0 && emails.length === 0) return [];
  const rows = await tx.$queryRaw<(Omit<LeadState, "fieldVersions"> & { fieldVersions: unknown })[]>`
    SELECT id::text AS id, email, first_name AS "firstName", last_name AS "lastName", phone, company,
           job_title AS "jobTitle", field_versions AS "fieldVersions"
    FROM leads
    WHERE org_id = ${orgId} AND (id = ANY(${[...ids]}::uuid[]) OR email = ANY(${[...emails]}::text[]))
    ORDER BY id
    FOR UPDATE`;
  return rows.map((r) => ({ ...r, fieldVersions: asObject(r.fieldVersions) as Record<string, number> }));
}

export interface NewLead {
  fields: LeadFieldValues & { email: string };
  fieldVersions: Record<string, number>;
  externalId: string;
}

/** Creates the leads (source hubspot, in the CRM Import form) and their links; returns contact id → lead id. */
export async function createLeadsWithLinks(
  tx: Prisma.TransactionClient,
  scope: { orgId: string; formId: string; integrationId: string },
  leads: readonly NewLead[],
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (leads.length === 0) return ids;
  const now = new Date();
  const data = leads.map((lead) => {
    const id = randomUUID();
    ids.set(lead.externalId, id);
    return {
      id,
      orgId: scope.orgId,
      formId: scope.formId,
      email: lead.fields.email,
      firstName: lead.fields.firstName ?? null,
      lastName: lead.fields.lastName ?? null,
      phone: lead.fields.phone ?? null,
      company: lead.fields.company ?? null,
      jobTitle: lead.fields.jobTitle ?? null,
      source: "hubspot",
      fieldVersions: lead.fieldVersions,
    };
  });
  await tx.lead.createMany({ data });
  await createLinks(
    tx,
    scope.integrationId,
    leads.map((l) => ({ leadId: ids.get(l.externalId) as string, externalId: l.externalId })),
    now,
  );
  return ids;
}

export async function createLinks(
  tx: Prisma.TransactionClient,
  integrationId: string,
  links: readonly { leadId: string; externalId: string }[],
  syncedAt: Date = new Date(),
): Promise<void> {
  if (links.length === 0) return;
  // skipDuplicates: the outbound worker may have linked the same pair a moment ago (our push's echo).
  await tx.leadCrmLink.createMany({
    skipDuplicates: true,
    data: links.map((l) => ({ leadId: l.leadId, integrationId, provider: "hubspot" as const, externalId: l.externalId, lastSyncedAt: syncedAt })),
  });
}

/** Writes the merged rows of many leads in one statement. */
export async function updateLeads(tx: Prisma.TransactionClient, leads: readonly LeadState[]): Promise<void> {
  if (leads.length === 0) return;
  await tx.$executeRaw`
    UPDATE leads AS l
    SET email = v.email, first_name = v.first_name, last_name = v.last_name, phone = v.phone, company = v.company,
        job_title = v.job_title, field_versions = v.field_versions::jsonb, updated_at = now()
    FROM unnest(
      ${leads.map((l) => l.id)}::uuid[],
      ${leads.map((l) => l.email)}::text[],
      ${leads.map((l) => l.firstName)}::text[],
      ${leads.map((l) => l.lastName)}::text[],
      ${leads.map((l) => l.phone)}::text[],
      ${leads.map((l) => l.company)}::text[],
      ${leads.map((l) => l.jobTitle)}::text[],
      ${leads.map((l) => JSON.stringify(l.fieldVersions))}::text[]
    ) AS v(id, email, first_name, last_name, phone, company, job_title, field_versions)
    WHERE l.id = v.id`;
}

export async function deleteLinks(tx: Prisma.TransactionClient, integrationId: string, externalIds: readonly string[]): Promise<void> {
  if (externalIds.length === 0) return;
  await tx.leadCrmLink.deleteMany({ where: { integrationId, externalId: { in: [...externalIds] } } });
}
