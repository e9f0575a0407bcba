import { randomUUID } from "node:crypto";
import { readPushedFields, type LeadFieldValues, type PushedFields } from "@leadsync/core";
import { Prisma } from "@leadsync/db";
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

type LockedRow = Omit<LeadState, "fieldVersions"> & {
  fieldVersions: unknown;
  linkExternalId: string | null;
  linkLastPushed: unknown;
  linkLastSyncedAt: Date | null;
};

/** A locked lead and its link in the integration (null when it has none). */
export interface LockedLead {
  lead: LeadState;
  link: LinkRow | null;
}

/**
 * The statement of lockLeadsOfContacts. The leads are found by two index lookups joined by UNION ALL (links by
 * contact id, leads by org and email): an OR of both conditions can only filter a scan of every lead of the org.
 */
export function lockLeadsQuery(scope: { orgId: string; integrationId: string }, contactIds: readonly string[], emails: readonly string[]): Prisma.Sql {
  return Prisma.sql`
    SELECT l.id::text AS id, l.email, l.first_name AS "firstName", l.last_name AS "lastName", l.phone, l.company,
           l.job_title AS "jobTitle", l.field_versions AS "fieldVersions",
           k.external_id AS "linkExternalId", k.last_pushed AS "linkLastPushed", k.last_synced_at AS "linkLastSyncedAt"
    FROM leads AS l
    LEFT JOIN lead_crm_links AS k ON k.lead_id = l.id AND k.integration_id = ${scope.integrationId}::uuid
    WHERE l.org_id = ${scope.orgId}
      AND l.id IN (SELECT lead_id FROM lead_crm_links WHERE integration_id = ${scope.integrationId}::uuid AND external_id = ANY(${[...contactIds]}::text[])
                   UNION ALL
                   SELECT id FROM leads WHERE org_id = ${scope.orgId} AND email = ANY(${[...emails]}::text[]))
    ORDER BY l.id
    FOR UPDATE OF l`;
}

/**
 * The org's leads linked to `contactIds` or having one of `emails`, each with its link in the integration, locked
 * until the transaction ends (in id order, so two batches touching the same leads queue up instead of deadlocking)
 * — a concurrent batch cannot apply an older read in between. One statement: no query-compiler work, one round trip.
 */
export async function lockLeadsOfContacts(
  tx: Prisma.TransactionClient,
  scope: { orgId: string; integrationId: string },
  contactIds: readonly string[],
  emails: readonly string[],
): Promise<LockedLead[]> {
  if (contactIds.length === 0 && emails.length === 0) return [];
  // Planned without looking at the org and integration values: for an org created since the table was last analysed
  // (a new customer's first backfill, far below autovacuum's 10% threshold on a big table) Postgres believes both
  // hold one row and scans all their leads and links for every batch, instead of the unique indexes — the backfill
  // grew quadratic (bench growth: 100 contacts took 5 s after 4,000). The generic plan uses the indexes whatever the
  // statistics say. It stays for the rest of this transaction, whose statements are all keyed writes.
  await tx.$executeRawUnsafe("SET LOCAL plan_cache_mode = force_generic_plan");
  const rows = await tx.$queryRaw<LockedRow[]>(lockLeadsQuery(scope, contactIds, emails));
  return rows.map(({ linkExternalId, linkLastPushed, linkLastSyncedAt, fieldVersions, ...lead }) => ({
    lead: { ...lead, fieldVersions: asObject(fieldVersions) as Record<string, number> },
    link: linkExternalId === null ? null : toLinkRow({ leadId: lead.id, externalId: linkExternalId, lastPushed: linkLastPushed, lastSyncedAt: linkLastSyncedAt }),
  }));
}

export interface NewLead {
  fields: LeadFieldValues & { email: string };
  fieldVersions: Record<string, number>;
  externalId: string;
  /** The CRM values the lead took, recorded in its link's `lastPushed` (see recordPulled). */
  pulled?: PushedFields;
}

/**
 * Creates the leads (source = the integration's provider, in the CRM Import form) and their links in one statement; returns contact
 * id → lead id. A link the outbound worker made for the same contact a moment ago (our push's echo) is kept and
 * takes the pulled values, as recordPulled would.
 */
export async function createLeadsWithLinks(
  tx: Prisma.TransactionClient,
  scope: { orgId: string; formId: string; integrationId: string },
  leads: readonly NewLead[],
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (leads.length === 0) return ids;
  const leadIds = leads.map((lead) => {
    const id = randomUUID();
    ids.set(lead.externalId, id);
    return id;
  });
  // One JSON parameter per table rather than a hundred-element array per column: far less client CPU to encode.
  const newLeads = JSON.stringify(
    leads.map((l, i) => ({
      id: leadIds[i],
      email: l.fields.email,
      first_name: l.fields.firstName ?? null,
      last_name: l.fields.lastName ?? null,
      phone: l.fields.phone ?? null,
      company: l.fields.company ?? null,
      job_title: l.fields.jobTitle ?? null,
      field_versions: l.fieldVersions,
    })),
  );
  const newLinks = JSON.stringify(leads.map((l, i) => ({ lead_id: leadIds[i], external_id: l.externalId, pulled: l.pulled ?? {} })));
  // The links' foreign keys are checked at the end of the statement, when the CTE's leads exist.
  await tx.$executeRaw`
    WITH new_leads AS (
      INSERT INTO leads (id, org_id, form_id, email, first_name, last_name, phone, company, job_title, source, field_versions, updated_at)
      SELECT v.id, ${scope.orgId}, ${scope.formId}::uuid, v.email, v.first_name, v.last_name, v.phone, v.company, v.job_title,
             (SELECT provider::text FROM crm_integrations WHERE id = ${scope.integrationId}::uuid), v.field_versions, now()
      FROM jsonb_to_recordset(${newLeads}::jsonb) AS v(id uuid, email text, first_name text, last_name text, phone text,
        company text, job_title text, field_versions jsonb)
    )
    INSERT INTO lead_crm_links (id, lead_id, integration_id, provider, external_id, last_pushed, last_synced_at, updated_at)
    SELECT gen_random_uuid(), v.lead_id, ${scope.integrationId}::uuid, (SELECT provider FROM crm_integrations WHERE id = ${scope.integrationId}::uuid),
           v.external_id, v.pulled, now(), now()
    FROM jsonb_to_recordset(${newLinks}::jsonb) AS v(lead_id uuid, external_id text, pulled jsonb)
    ON CONFLICT (integration_id, external_id) DO UPDATE
      SET last_pushed = lead_crm_links.last_pushed || EXCLUDED.last_pushed, last_synced_at = now(), updated_at = now()`;
  return ids;
}

export async function createLinks(
  tx: Prisma.TransactionClient,
  integrationId: string,
  links: readonly { leadId: string; externalId: string }[],
  syncedAt: Date = new Date(),
): Promise<void> {
  if (links.length === 0) return;
  // DO NOTHING: the outbound worker may have linked the same pair a moment ago (our push's echo).
  await tx.$executeRaw`
    INSERT INTO lead_crm_links (id, lead_id, integration_id, provider, external_id, last_synced_at, updated_at)
    SELECT gen_random_uuid(), v.lead_id, ${integrationId}::uuid, (SELECT provider FROM crm_integrations WHERE id = ${integrationId}::uuid),
           v.external_id, ${syncedAt}, now()
    FROM unnest(${links.map((l) => l.leadId)}::uuid[], ${links.map((l) => l.externalId)}::text[]) AS v(lead_id, external_id)
    ON CONFLICT DO NOTHING`;
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
