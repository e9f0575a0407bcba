/** One webhook subscription as stored on the integration and shown by the API. */
export interface StoredSubscription {
  id: string;
  eventType: string;
  propertyName?: string;
  active: boolean;
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
