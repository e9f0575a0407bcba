import type { HubSpotEvent } from "@leadsync/core";

/** The contact an event is about: for a merge, the surviving contact (newObjectId, else the primary). */
export function contactIdOf(event: HubSpotEvent): string {
  if (event.subscriptionType === "contact.merge") return event.newObjectId ?? event.primaryObjectId ?? event.objectId;
  return event.objectId;
}

/** The contacts a merge folded into the survivor (all but the survivor). */
export function mergedIdsOf(event: HubSpotEvent): string[] {
  const survivor = contactIdOf(event);
  return [...new Set([event.objectId, event.primaryObjectId, ...(event.mergedObjectIds ?? [])])].filter(
    (id): id is string => id !== undefined && id !== survivor,
  );
}

/** Every contact an event names (its object, a merge's survivor and merged-away contacts). */
export function contactIdsOf(event: HubSpotEvent): string[] {
  return [contactIdOf(event), ...mergedIdsOf(event)];
}

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
    case "contact.merge":
      return "upsert";
    case "contact.deletion":
    case "contact.privacyDeletion":
      return "delete";
    default:
      return "unsupported";
  }
}
