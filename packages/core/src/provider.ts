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
}

export interface UpsertInput {
  /** Our lead id: matches results back to leads. */
  leadId: string;
  email: string;
  properties: Record<string, string>;
}

export type UpsertResult =
  | { leadId: string; ok: true; externalId: string; created: boolean; properties: Record<string, string | null> }
  | { leadId: string; ok: false; message: string; retryable: boolean };

export interface CrmProviderLimits {
  /** Largest number of records one batch read or write may carry. */
  maxBatchSize: number;
}

/** What the workers call. One instance per integration (it holds that account's credentials). */
export interface CrmProviderClient {
  readonly provider: string;
  readonly limits: CrmProviderLimits;
  /** Reads records by id; missing ids are simply absent from the result. */
  fetchContacts(ids: readonly string[], properties: readonly string[]): Promise<CrmContact[]>;
  /** Creates or updates records keyed by email; per-record results, never a partial throw. */
  upsertContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]>;
}
