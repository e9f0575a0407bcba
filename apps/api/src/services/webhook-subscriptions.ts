import { DEFAULT_HUBSPOT_FIELD_MAPPING, LEAD_SOURCE_PROPERTY, type FieldMapping } from "@leadsync/core";

/** One webhook subscription as stored on the integration and shown by the API. */
export interface StoredSubscription {
  id: string;
  eventType: string;
  propertyName?: string;
  active: boolean;
}

/**
 * The properties whose changes we subscribe to: every mapped lead field (the integration's mapping) plus the source
 * marker (HubSpot's contact.propertyChange subscriptions are per property).
 */
export function watchedProperties(mapping: FieldMapping = DEFAULT_HUBSPOT_FIELD_MAPPING): string[] {
  return [...new Set([...Object.values(mapping), LEAD_SOURCE_PROPERTY])];
}

/** The contact lifecycle events the inbound worker acts on besides creation and deletion. */
export const LIFECYCLE_EVENT_TYPES = ["contact.restore", "contact.merge", "contact.privacyDeletion"] as const;

/** What a private app must configure by hand, for the error that tells the operator how. */
export function requiredSubscriptions(mapping: FieldMapping = DEFAULT_HUBSPOT_FIELD_MAPPING): { eventType: string; propertyName?: string }[] {
  return [
    { eventType: "contact.creation" },
    { eventType: "contact.deletion" },
    ...LIFECYCLE_EVENT_TYPES.map((eventType) => ({ eventType })),
    ...watchedProperties(mapping).map((propertyName) => ({ eventType: "contact.propertyChange", propertyName })),
  ];
}

/** Reads the integration's JSON column defensively: it is written by us, but Json is untyped. */
export function parseStoredSubscriptions(value: unknown): StoredSubscription[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry): StoredSubscription[] => {
    if (entry === null || typeof entry !== "object") return [];
    const { id, eventType, propertyName, active } = entry as Record<string, unknown>;
    if ((typeof id !== "string" && typeof id !== "number") || typeof eventType !== "string") return [];
    return [{ id: String(id), eventType, ...(typeof propertyName === "string" && { propertyName }), active: active === true }];
  });
}
