import { createHash } from "node:crypto";
import type { HubSpotEvent } from "./webhook-event.js";

/**
 * An event's identity (ARCHITECTURE.md "Idempotency"): HubSpot's eventId alone is not unique, so the key
 * hashes the event's content. attemptNumber is left out on purpose: a retry of the same event must hash the same.
 */
export function eventDedupeKey(event: HubSpotEvent, provider = "hubspot"): string {
  return createHash("sha256").update(`${provider}\u001f${eventIdentity(event)}`).digest("base64url");
}

/** The event's content that makes up its identity, unhashed (the receiver hashes many at once for a batch's job id). */
export function eventIdentity(event: HubSpotEvent): string {
  return [
    event.portalId,
    event.subscriptionType,
    event.objectId,
    event.propertyName ?? "",
    event.propertyValue ?? "",
    String(event.occurredAt),
    event.eventId,
  ].join("\u001f");
}
