import type { HubSpotEvent } from "@leadsync/core";

/** One webhook event handed from a job to the portal's batch. */
export interface InboundItem {
  event: HubSpotEvent;
  /** When the receiver accepted the batch (ms epoch). */
  receivedAt: number;
  jobId: string;
}

/** webhook_events.outcome */
export type EventOutcome = "processed" | "skipped" | "ignored" | "failed";

export interface EventVerdict {
  outcome: EventOutcome;
  reason: string | null;
}

/** What a contact event asks of the lead: read the contact and upsert, drop the link, or nothing. */
export type EventKind = "upsert" | "delete" | "unsupported";

export function eventKind(type: string): EventKind {
  switch (type) {
    case "contact.creation":
    case "contact.restore":
    case "contact.propertyChange":
      return "upsert";
    case "contact.deletion":
    case "contact.privacyDeletion":
      return "delete";
    default:
      return "unsupported";
  }
}
