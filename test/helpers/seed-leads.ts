import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

/**
 * Bulk rows for the growth benchmark, written with Postgres COPY (text format) rather than through the API: a
 * million leads in about a minute. Each lead gets what the inbound path reads beside it: its CRM link (leads that
 * came from or went to the CRM are linked) and the webhook event that brought it in (the claims table grows with
 * the leads, up to the retention period). Ids are a pure function of (org, n), so a test or a later step can name
 * a seeded row without reading it back.
 */

export interface SeedOrg {
  /** Small integer that makes this org's ids distinct from other seeded orgs'. */
  index: number;
  orgId: string;
  formId: string;
  integrationId: string;
  /** The integration's account id (webhook_events.external_account_id). */
  accountId: string;
}

/** The first lead's created_at; lead n is `n` × CREATED_STEP_MS later (1M leads span about a year). */
export const SEED_EPOCH_MS = Date.UTC(2025, 11, 1);
export const CREATED_STEP_MS = 31_000;
/** Seeded contacts' CRM ids: far above the sandbox's own (sequential from 1), so the two never meet. */
const EXTERNAL_ID_BASE = 5_000_000_000;
const ROWS_PER_CHUNK = 2_000;

/** A v4-shaped UUID whose first 8 hex digits are a hash of (org, n): index positions as scattered as real UUIDs. */
export function seedLeadId(org: Pick<SeedOrg, "index">, n: number): string {
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(org.index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f) ^ (h >>> 16);
  const hex = (h >>> 0).toString(16).padStart(8, "0");
  return `${hex}-${(org.index & 0xffff).toString(16).padStart(4, "0")}-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

export function seedEmail(org: Pick<SeedOrg, "index">, n: number): string {
  return `lead-${n}@org${org.index}.example.com`;
}

export function seedCreatedAt(n: number): Date {
  return new Date(SEED_EPOCH_MS + n * CREATED_STEP_MS);
}

/** The CRM id of seeded lead n, unless `externalIds` names another (a contact that exists in the sandbox). */
export function seedExternalId(org: Pick<SeedOrg, "index">, n: number, externalIds?: ReadonlyMap<number, string>): string {
  return externalIds?.get(n) ?? String(EXTERNAL_ID_BASE + org.index * 100_000_000 + n);
}

export interface SeedRange {
  /** Leads n in [from, to) are written. */
  from: number;
  to: number;
  /** Seeded leads whose CRM id is a real sandbox contact (n → contact id). */
  externalIds?: ReadonlyMap<number, string>;
}

/** Writes leads [from, to) of `org`, their links and one claimed creation event each; returns the seconds per table. */
export async function copyLeads(client: pg.Client, org: SeedOrg, range: SeedRange): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  const timed = async (table: string, columns: string, row: (n: number) => string) => {
    const started = performance.now();
    await copyRows(client, table, columns, range, row);
    seconds[table] = (performance.now() - started) / 1000;
  };
  await timed("leads", "id, org_id, form_id, email, first_name, last_name, phone, company, job_title, source, field_versions, created_at, updated_at", (n) => {
    const at = seedCreatedAt(n).toISOString();
    const t = seedCreatedAt(n).getTime();
    // Most leads came from the CRM; every fourth was created on the platform and pushed.
    const source = n % 4 === 0 ? "jazzaam" : "hubspot";
    const versions = `{"email": ${t}, "firstName": ${t}, "lastName": ${t}, "phone": ${t}, "company": ${t}, "jobTitle": ${t}}`;
    return [seedLeadId(org, n), org.orgId, org.formId, seedEmail(org, n), `First${n}`, `Last${n}`, `+1555${String(n % 10_000_000).padStart(7, "0")}`, `Company ${n % 997}`, "Buyer", source, versions, at, at].join("\t");
  });
  await timed("lead_crm_links", "id, lead_id, integration_id, provider, external_id, last_pushed, last_synced_at, created_at, updated_at", (n) => {
    const at = seedCreatedAt(n).toISOString();
    const t = seedCreatedAt(n).getTime();
    const pushed = `{"email": {"value": "${seedEmail(org, n)}", "at": ${t}}, "firstname": {"value": "First${n}", "at": ${t}}, "lastname": {"value": "Last${n}", "at": ${t}}}`;
    return [linkId(org, n), seedLeadId(org, n), org.integrationId, "hubspot", seedExternalId(org, n, range.externalIds), pushed, at, at, at].join("\t");
  });
  await timed("webhook_events", "dedupe_key, integration_id, provider, external_account_id, event_id, subscription_type, object_id, occurred_at, outcome, received_at", (n) => {
    const at = seedCreatedAt(n).toISOString();
    return [`seed-${org.index}-${n}`, org.integrationId, "hubspot", org.accountId, String(n), "contact.creation", seedExternalId(org, n, range.externalIds), at, "processed", at].join("\t");
  });
  return seconds;
}

function linkId(org: Pick<SeedOrg, "index">, n: number): string {
  // Same scatter as the lead's id, another fixed group so the two never collide.
  return seedLeadId(org, n).replace(/-4000-8000-/, "-4000-9000-");
}

async function copyRows(client: pg.Client, table: string, columns: string, range: SeedRange, row: (n: number) => string): Promise<void> {
  function* chunks() {
    for (let start = range.from; start < range.to; start += ROWS_PER_CHUNK) {
      const lines: string[] = [];
      for (let n = start; n < Math.min(range.to, start + ROWS_PER_CHUNK); n++) lines.push(row(n));
      yield `${lines.join("\n")}\n`;
    }
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
}
