import { createHash } from "node:crypto";
import type { CrmContact } from "./provider.js";

/**
 * One change of one CRM record, as every provider's change feed is turned into before the workers see it
 * (HubSpot webhooks, Salesforce Change Data Capture, Zoho notification callbacks, Pipedrive webhooks v2).
 * The workers' rules — loop check on create, echo detection, conflict rule, deletes, restores, merges — apply to
 * these and name no provider.
 */

export const CHANGE_KINDS = ["create", "update", "delete", "restore", "merge", "privacy_delete", "unsupported"] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/**
 * Who made the change, as far as the feed says:
 * - `self`: the feed names our own app or client (HubSpot `sourceId` = our app id, Salesforce `changeOrigin` with
 *   `client=leadsync`, Pipedrive `change_source: api` by our integration user): an echo, dropped without a read.
 * - `other`: the feed names a person or another app: never an echo, even when the value equals what we pushed.
 * - `unknown`: the feed names no actor (Zoho): the write ledger decides.
 */
export type ChangeOrigin = "self" | "other" | "unknown";

export interface RecordChange {
  /** The provider's name (`hubspot`, `salesforce`, `zoho`, `pipedrive`). */
  provider: string;
  /** The CRM account the change happened in: HubSpot portal id, Salesforce org id, Zoho org id, Pipedrive company id. */
  accountId: string;
  /** The record the change is about (for a merge: the surviving record). */
  recordId: string;
  kind: ChangeKind;
  /** The feed's own name for the event (`contact.propertyChange`, `UPDATE`, `edit`, `change`): logged and stored. */
  type: string;
  /**
   * The new values of the fields the feed says changed (provider field names; null = cleared), when it carries
   * values. Absent when the feed carries none (a creation webhook, Zoho's ids-only callback): read the record.
   */
  fields?: Record<string, string | null>;
  /** The whole record as the feed carries it (Pipedrive's `data`): no read is needed. */
  record?: CrmContact;
  origin: ChangeOrigin;
  /** When the change happened in the CRM (ms epoch). */
  occurredAt: number;
  /** The feed's id of the event (HubSpot eventId, Salesforce replay id, Pipedrive meta.id); not necessarily unique. */
  eventId: string;
  /** merge: the records folded into `recordId`. */
  mergedIds?: string[];
  /**
   * The change's content identity, unhashed (idempotency: a redelivery has the same identity). Providers build it
   * from what stays the same across redeliveries (never an attempt counter).
   */
  identity: string;
}

/** The change's idempotency key: stored in `webhook_events.dedupe_key`. */
export function changeDedupeKey(change: Pick<RecordChange, "provider" | "identity">): string {
  return createHash("sha256").update(`${change.provider}\u001f${change.identity}`).digest("base64url");
}

/** An identity from the parts that make a change unique, for providers whose feed has no better one. */
export function identityOf(parts: readonly (string | number | undefined | null)[]): string {
  return parts.map((p) => (p === undefined || p === null ? "" : String(p))).join("\u001f");
}

/** Every record a change names (its record and, for a merge, the merged-away records). */
export function recordIdsOf(change: Pick<RecordChange, "recordId" | "mergedIds">): string[] {
  return [change.recordId, ...(change.mergedIds ?? []).filter((id) => id !== change.recordId)];
}

/** What a change asks of the lead: read the record and upsert, drop the link, or nothing. */
export function changeAction(kind: ChangeKind): "upsert" | "delete" | "unsupported" {
  switch (kind) {
    case "create":
    case "update":
    case "restore":
    case "merge":
      return "upsert";
    case "delete":
    case "privacy_delete":
      return "delete";
    default:
      return "unsupported";
  }
}
