import type { UpsertResult } from "@leadsync/core";
import { LEAD_KEY_PREFIX } from "./constants.js";
import { isTransientCode } from "./errors.js";

/** One entry of an sObject Collections answer, in request order (SaveResult / UpsertResult). */
export interface SaveResult {
  id?: string | null;
  success: boolean;
  errors?: SaveError[];
  created?: boolean;
}

/** A record's error: `statusCode` in collections, `errorCode` in single-record answers. */
export interface SaveError {
  statusCode?: string;
  errorCode?: string;
  message?: string;
  fields?: string[];
  duplicateResult?: DuplicateResult;
}

/** Salesforce's DuplicateResult, as far as we read it. */
interface DuplicateResult {
  matchResults?: Array<{ entityType?: string; matchRecords?: Array<{ record?: { Id?: string; attributes?: { type?: string } } }> }>;
}

export const DUPLICATES_DETECTED = "DUPLICATES_DETECTED";
export const CANNOT_UPDATE_CONVERTED_LEAD = "CANNOT_UPDATE_CONVERTED_LEAD";

export function codeOf(error: SaveError | undefined): string | undefined {
  return error?.statusCode ?? error?.errorCode;
}

/**
 * The Lead a duplicate rule matched. A rule can also match Contacts or Accounts; only a Lead can be linked (our
 * records are Leads), so other matches count as none.
 */
export function duplicateLeadId(error: SaveError | undefined): string | undefined {
  for (const match of error?.duplicateResult?.matchResults ?? []) {
    for (const candidate of match.matchRecords ?? []) {
      const id = candidate.record?.Id;
      const type = candidate.record?.attributes?.type ?? match.entityType;
      if (typeof id === "string" && (type === "Lead" || (type === undefined && id.startsWith(LEAD_KEY_PREFIX)))) return id;
    }
  }
  return undefined;
}

/** A collections answer entry → the sync's per-record result. */
export function toUpsertResult(leadId: string, result: SaveResult | undefined, created: boolean, properties: Record<string, string>): UpsertResult {
  if (!result) return { leadId, ok: false, message: "Salesforce returned no result for this record", retryable: true };
  if (result.success && typeof result.id === "string") {
    return { leadId, ok: true, externalId: result.id, created: result.created ?? created, properties };
  }
  const error = result.errors?.[0];
  const code = codeOf(error);
  const fields = error?.fields?.length ? ` [${error.fields.join(", ")}]` : "";
  const message = `Salesforce rejected the record (${code ?? "UNKNOWN"})${fields}: ${error?.message ?? "no message"}`;
  if (code === DUPLICATES_DETECTED) {
    const existingId = duplicateLeadId(error);
    return { leadId, ok: false, message, retryable: false, ...(existingId === undefined ? {} : { existingId }) };
  }
  return { leadId, ok: false, message, retryable: isTransientCode(code) };
}
