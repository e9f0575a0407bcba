import { changeAction, recordIdsOf, type RecordChange } from "@leadsync/core";

/** One record change handed from a job to its account's batch. */
export interface InboundItem {
  change: RecordChange;
  /** When the receiver (or the feed subscriber) accepted the delivery (ms epoch). */
  receivedAt: number;
  jobId: string;
}

/** The record a change is about: for a merge, the surviving record. */
export function contactIdOf(change: RecordChange): string {
  return change.recordId;
}

/** The records a merge folded into the survivor (all but the survivor). */
export function mergedIdsOf(change: RecordChange): string[] {
  return [...new Set(change.mergedIds ?? [])].filter((id) => id !== change.recordId);
}

/** Every record a change names (its record, a merge's merged-away records). */
export function contactIdsOf(change: RecordChange): string[] {
  return recordIdsOf(change);
}

/** The coalescer's group of a change: one CRM account of one provider. */
export function accountKeyOf(change: Pick<RecordChange, "provider" | "accountId">): string {
  return `${change.provider}:${change.accountId}`;
}

/** webhook_events.outcome */
export type EventOutcome = "processed" | "skipped" | "ignored" | "failed";

export interface EventVerdict {
  outcome: EventOutcome;
  reason: string | null;
}

/** What a change asks of the lead: read the record and upsert, drop the link, or nothing. */
export type EventKind = "upsert" | "delete" | "unsupported";

export function eventKind(change: RecordChange): EventKind {
  return changeAction(change.kind);
}
