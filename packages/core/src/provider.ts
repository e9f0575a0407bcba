/**
 * The seam every CRM provider sits behind (ARCHITECTURE.md). HubSpot implements it today; Salesforce
 * (batches of 200, our writes marked by a client id), Zoho (100, expiring notification channels) and
 * Pipedrive (one record per call, HTTP Basic webhooks) must fit without the workers changing.
 */

/** A CRM record as the sync sees it: id, flat string properties, last modification time. */
export interface CrmContact {
  id: string;
  properties: Record<string, string | null>;
  /** When the record last changed in the CRM (ms epoch); orders concurrent reads of the same record. */
  updatedAt: number;
  archived?: boolean;
  /** When the sync read it (ms epoch; set by the worker, not the provider): a read orders against our own syncs. */
  readAt?: number;
}

export interface UpsertInput {
  /** Our lead id: matches results back to leads. */
  leadId: string;
  email: string;
  properties: Record<string, string>;
}

/** Properties to write to one existing record, by the CRM's id. */
export interface UpdateInput {
  leadId: string;
  externalId: string;
  properties: Record<string, string>;
}

/** One record's outcome of an upsert, create or update. */
export type UpsertResult =
  | { leadId: string; ok: true; externalId: string; created: boolean; properties: Record<string, string | null> }
  | {
      leadId: string;
      ok: false;
      message: string;
      retryable: boolean;
      /** Create only: the CRM already holds a record with this input's email (someone else's). Link to it; never overwrite its origin. */
      existingId?: string;
      /** Not written for want of budget (a rate limit stopped the batch midway): try this input again after this long. */
      retryAfterMs?: number;
    };

export interface CrmProviderLimits {
  /** Largest number of records one batch read or write may carry (Pipedrive: 1). */
  maxBatchSize: number;
  /** Calls the provider may have in flight at once for one account (Pipedrive's parallel single writes); default 1. */
  maxParallelCalls?: number;
  /** The tick of the CRM's record timestamps (ms): 1000 where it stamps whole seconds (Zoho, Pipedrive); default 1. */
  clockResolutionMs?: number;
}

/** One page of a paged read (backfill, reconciliation); `after` is absent on the last page. */
export interface ContactPage {
  contacts: CrmContact[];
  after?: string;
  /** Records left to read in all, when the CRM says (backfill progress). */
  total?: number;
}

/**
 * The shared, cross-process budget of one CRM account (state in Redis), as a provider client sees it. Costs are the
 * provider's units: calls (HubSpot, Salesforce), credits (Zoho) or tokens (Pipedrive).
 */
export interface AccountCallLimiter {
  /** Takes `cost` units before a call, or throws `CrmRateLimitedError` saying when to try again. */
  acquire(operation: string, cost?: number): Promise<void>;
  /** Hands back a concurrency slot taken by `acquire` (limiters with a concurrency cap); call it in a finally. */
  release?(operation: string): Promise<void>;
  /** What the CRM reported in its usage headers, to correct the shared count (never to raise the limit). */
  observe(usage: { window: string; used?: number; remaining?: number; limit?: number; resetInMs?: number }): Promise<void>;
  /** The CRM refused (429 / limit error): no call for this account until `ms` from now, in any process. */
  pause(ms: number, reason: string): Promise<void>;
}

/**
 * What the workers call. One instance per integration (it holds that account's credentials).
 *
 * Writes take any number of inputs and return one result per input, in input order; the provider chunks by its
 * own `maxBatchSize` and narrows a rejected batch down to the offending input (a 4xx fails that input alone,
 * `retryable: false`). A transient failure (5xx, network, rate limit) before anything was written throws, so the
 * job is retried or delayed as a whole. How the next providers fit:
 * - HubSpot: batch create / update / upsert, 100 per call; create with an `objectWriteTraceId` per input reports
 *   a taken email per input ("Existing ID: N" → `existingId`).
 * - Salesforce: composite sObject collections, 200 per call with `allOrNone: false` (per-record results);
 *   a duplicate-rule match names the existing record → `existingId`.
 * - Zoho: insert / update 100 per call with per-record status; `DUPLICATE_DATA` carries the existing id.
 * - Pipedrive: one record per call (`maxBatchSize: 1`); the provider loops and looks the person up by email
 *   before a create to fill `existingId`.
 */
export interface CrmProviderClient {
  readonly provider: string;
  readonly limits: CrmProviderLimits;
  /**
   * The CRM field that marks where a record originated (HubSpot `lead_source_system`, Salesforce
   * `Lead_Source_System__c`, Zoho's generated api_name, Pipedrive's 40-character key): read with every record and
   * set to the marker on every record we create.
   */
  readonly markerField: string;
  /** Reads records by id; missing ids are simply absent from the result. */
  fetchContacts(ids: readonly string[], properties: readonly string[]): Promise<CrmContact[]>;
  /** Creates or updates records keyed by email; per-record results, never a partial throw. */
  upsertContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]>;
  /**
   * Creates one record per input; an input whose email the CRM already has is not written and comes back with
   * `existingId` (the caller links to that record and updates it without claiming its origin).
   */
  createContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]>;
  /** Writes exactly the given properties to existing records by id (`created: false`); an unknown id fails alone. */
  updateContacts(inputs: readonly UpdateInput[]): Promise<UpsertResult[]>;
  /** The names of the fields a record of this CRM can have (field mappings are checked against them). */
  listFieldNames(): Promise<string[]>;
  /** Every live record with an id after `afterId` (undefined: from the start), in a stable order, for backfills. */
  listContactsAfter(afterId: string | undefined, properties: readonly string[], limit?: number): Promise<ContactPage>;
  /** Records modified at or after `sinceMs`, oldest first, for reconciliation; `after` continues a run. */
  listContactsModifiedSince(sinceMs: number, after: string | undefined, properties: readonly string[]): Promise<ContactPage>;
}

/**
 * What the CRM holds per property as far as the sync knows: the value we last pushed (or last read and applied
 * to the lead) and when (ms epoch). Stored as `LeadCrmLink.lastPushed`, shape `{ [property]: { value, at } }`.
 * The outbound worker pushes only properties whose lead value differs from it; the inbound worker treats a
 * change event carrying the same value as the echo of our own write.
 */
export type PushedFields = Record<string, { value: string; at: number }>;

/** `lastPushed` as stored; entries of the older flat shape (`{ [property]: value }`) read with `at: 0`. */
export function readPushedFields(stored: unknown): PushedFields {
  if (stored === null || typeof stored !== "object" || Array.isArray(stored)) return {};
  const fields: PushedFields = {};
  for (const [property, entry] of Object.entries(stored as Record<string, unknown>)) {
    if (typeof entry === "string") fields[property] = { value: entry, at: 0 };
    else if (entry !== null && typeof entry === "object" && typeof (entry as { value?: unknown }).value === "string") {
      const at = (entry as { at?: unknown }).at;
      fields[property] = { value: (entry as { value: string }).value, at: typeof at === "number" ? at : 0 };
    }
  }
  return fields;
}

/** The properties whose value differs from what the CRM holds (per `pushed`): what an update must send. */
export function changedProperties(properties: Readonly<Record<string, string>>, pushed: PushedFields): Record<string, string> {
  const changed: Record<string, string> = {};
  for (const [property, value] of Object.entries(properties)) if (pushed[property]?.value !== value) changed[property] = value;
  return changed;
}

/** `pushed` after the CRM accepted `properties` at `at`. */
export function withPushed(pushed: PushedFields, properties: Readonly<Record<string, string>>, at: number): PushedFields {
  const next: PushedFields = { ...pushed };
  for (const [property, value] of Object.entries(properties)) next[property] = { value, at };
  return next;
}
