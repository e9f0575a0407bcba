import { createHash } from "node:crypto";
import type { HubSpotEvent } from "./webhook-event.js";

/**
 * An event's identity (ARCHITECTURE.md "Idempotency"): HubSpot's eventId alone is not unique, so the key
 * hashes the event's content. attemptNumber is left out on purpose: a retry of the same event must hash the same.
 */
export function eventDedupeKey(event: HubSpotEvent, provider = "hubspot"): string {
  const parts = [
    provider,
    event.portalId,
    event.subscriptionType,
    event.objectId,
    event.propertyName ?? "",
    event.propertyValue ?? "",
    String(event.occurredAt),
    event.eventId,
  ];
  return createHash("sha256").update(parts.join("\u001f")).digest("base64url");
}
