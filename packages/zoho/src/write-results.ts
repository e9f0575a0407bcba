import type { UpsertResult } from "@leadsync/core";
import { isRecord } from "./errors.js";
import type { ZohoRecordResult } from "./leads-api.js";

/** Per-record codes worth trying again later; every other error is the input's fault. */
const TRANSIENT_CODES = new Set(["INTERNAL_ERROR", "TOO_MANY_REQUESTS", "LOCKED"]);

/**
 * One record's result as the seam reports it. A success carries what we wrote plus the write's `Modified_Time` and
 * `Modified_By` (the write ledger compares a later callback's record with them); a taken email carries the
 * existing record's id.
 */
export function toUpsertResult(leadId: string, result: ZohoRecordResult, written: Readonly<Record<string, string>>, defaultCreated: boolean): UpsertResult {
  const details = isRecord(result.details) ? result.details : {};
  if (result.status === "success" && typeof details["id"] === "string") {
    const modifiedBy = isRecord(details["Modified_By"]) && typeof details["Modified_By"]["id"] === "string" ? details["Modified_By"]["id"] : null;
    return {
      leadId,
      ok: true,
      externalId: details["id"],
      created: result.action === undefined ? defaultCreated : result.action === "insert",
      properties: { ...written, Modified_Time: typeof details["Modified_Time"] === "string" ? details["Modified_Time"] : null, Modified_By: modifiedBy },
    };
  }
  const existingId = duplicateRecordId(result);
  const field = typeof details["api_name"] === "string" ? ` (${details["api_name"]})` : "";
  return {
    leadId,
    ok: false,
    message: `Zoho ${result.code}: ${result.message}${field}`,
    retryable: TRANSIENT_CODES.has(result.code),
    ...(existingId === undefined ? {} : { existingId }),
  };
}

/** The existing record of a `DUPLICATE_DATA` on Email (also inside `MULTIPLE_OR_MULTI_ERRORS`). */
export function duplicateRecordId(result: ZohoRecordResult): string | undefined {
  const candidates: unknown[] = result.code === "MULTIPLE_OR_MULTI_ERRORS" && isRecord(result.details) && Array.isArray(result.details["errors"]) ? result.details["errors"] : [result];
  for (const candidate of candidates) {
    if (!isRecord(candidate) || candidate["code"] !== "DUPLICATE_DATA" || !isRecord(candidate["details"])) continue;
    const details = candidate["details"];
    if (details["api_name"] !== undefined && details["api_name"] !== "Email") continue;
    const record = details["duplicate_record"];
    const id = isRecord(record) && typeof record["id"] === "string" ? record["id"] : details["id"];
    if (typeof id === "string") return id;
  }
  return undefined;
}

/** An input's result when its whole request was refused (a 4xx without per-record results). */
export function requestFailed(leadId: string, message: string, retryable: boolean): UpsertResult {
  return { leadId, ok: false, message, retryable };
}
