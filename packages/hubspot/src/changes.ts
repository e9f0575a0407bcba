import {
  hubspotEventSchema,
  isForeignChange,
  isOwnAppChange,
  parseHubSpotEventBatch,
  eventIdentity,
  type ChangeKind,
  type HubSpotEvent,
  type RecordChange,
} from "@leadsync/core";

/** HubSpot's contact webhook events → the pipeline's record changes. */

const KINDS: Readonly<Record<string, ChangeKind>> = {
  "contact.creation": "create",
  "contact.propertyChange": "update",
  "contact.deletion": "delete",
  "contact.restore": "restore",
  "contact.merge": "merge",
  "contact.privacyDeletion": "privacy_delete",
};

/** The contact a merge leaves: newObjectId, else the primary. */
function survivorOf(event: HubSpotEvent): string {
  return event.newObjectId ?? event.primaryObjectId ?? event.objectId;
}

export function toRecordChange(event: HubSpotEvent, appId: string | undefined): RecordChange {
  const kind = KINDS[event.subscriptionType] ?? "unsupported";
  const recordId = kind === "merge" ? survivorOf(event) : event.objectId;
  const change: RecordChange = {
    provider: "hubspot",
    accountId: event.portalId,
    recordId,
    kind,
    type: event.subscriptionType,
    origin: isOwnAppChange(event, appId) ? "self" : isForeignChange(event, appId) ? "other" : "unknown",
    occurredAt: event.occurredAt,
    eventId: event.eventId,
    // The same content hash as HubSpot events always had (attemptNumber left out), so stored claims still match.
    identity: eventIdentity(event),
  };
  if (kind === "update" && event.propertyName !== undefined) change.fields = { [event.propertyName]: event.propertyValue ?? null };
  if (kind === "merge") {
    const merged = [event.objectId, event.primaryObjectId, ...(event.mergedObjectIds ?? [])].filter((id): id is string => id !== undefined && id !== recordId);
    change.mergedIds = [...new Set(merged)];
  }
  return change;
}

/**
 * The job's events that are HubSpot events (the receiver validated them; a job written by an older receiver or by
 * hand is checked again here): the whole batch at once through core's fast path, else one by one, dropping the bad.
 */
export function parseHubSpotChanges(raw: readonly Record<string, unknown>[], appId: string | undefined): RecordChange[] {
  const batch = parseHubSpotEventBatch(raw);
  if (batch.success) return batch.data.map((event) => toRecordChange(event, appId));
  const changes: RecordChange[] = [];
  for (const candidate of raw) {
    const parsed = hubspotEventSchema.safeParse(candidate);
    if (parsed.success) changes.push(toRecordChange(parsed.data, appId));
  }
  return changes;
}
