import { z } from "zod";

/**
 * One HubSpot webhook event (hubspot-facts.md §2). HubSpot posts a JSON array of up to 100.
 * Unknown fields are kept (passthrough): HubSpot adds fields over time and a redelivery must hash the same.
 */
const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String);

const hubspotEventFields = z
  .object({
    eventId: id,
    subscriptionId: id.optional(),
    portalId: id,
    appId: id.optional(),
    occurredAt: z.number().int().nonnegative(),
    /** The docs' table calls it eventType, every real payload subscriptionType: accept both. */
    subscriptionType: z.string().min(1).max(100).optional(),
    eventType: z.string().min(1).max(100).optional(),
    attemptNumber: z.number().int().nonnegative().default(0),
    objectId: id,
    objectTypeId: z.string().max(20).optional(),
    changeSource: z.string().max(100).optional(),
    changeFlag: z.string().max(100).optional(),
    sourceId: z.string().max(200).optional(),
    propertyName: z.string().max(200).optional(),
    propertyValue: z.string().max(65_536).optional(),
    primaryObjectId: id.optional(),
    mergedObjectIds: z.array(id).max(1000).optional(),
    newObjectId: id.optional(),
  })
  .loose();

export const hubspotEventSchema = hubspotEventFields
  .refine((e) => e.subscriptionType ?? e.eventType, { message: "subscriptionType is required", path: ["subscriptionType"] })
  .transform(({ eventType, ...e }) => ({ ...e, subscriptionType: (e.subscriptionType ?? eventType) as string }));

export type HubSpotEvent = z.output<typeof hubspotEventSchema>;

export const MAX_EVENTS_PER_WEBHOOK = 100;

export const hubspotEventBatchSchema = z.array(hubspotEventSchema).min(1).max(MAX_EVENTS_PER_WEBHOOK);

export type HubSpotEventBatchParse = { success: true; data: HubSpotEvent[] } | { success: false; error: z.ZodError };

/**
 * `hubspotEventBatchSchema.safeParse`, faster for the batches HubSpot actually sends. zod's object parse costs ~5 µs
 * an event (a result object per key, the id unions, the transform's spreads), ~0.5 ms per 100-event webhook. A
 * hand-written check first takes the plain case (every field present has its documented JSON type and is within
 * bounds) and builds exactly the schema's output; anything else — including every input the schema rejects — goes
 * to zod, which stays the only judge of what is rejected and how.
 */
export function parseHubSpotEventBatch(input: unknown): HubSpotEventBatchParse {
  const fast = fastParseHubSpotEventBatch(input);
  if (fast !== undefined) return { success: true, data: fast };
  const parsed = hubspotEventBatchSchema.safeParse(input);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, error: parsed.error };
}

/** The batch as `hubspotEventBatchSchema` would output it, or undefined when zod must decide. Exported for tests. */
export function fastParseHubSpotEventBatch(input: unknown): HubSpotEvent[] | undefined {
  if (!Array.isArray(input) || input.length < 1 || input.length > MAX_EVENTS_PER_WEBHOOK) return undefined;
  const events: HubSpotEvent[] = new Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const event = fastParseHubSpotEvent(input[i]);
    if (event === undefined) return undefined;
    events[i] = event;
  }
  return events;
}

/**
 * Field checks for the plain case: each returns the field's output value, or NOT_PLAIN when zod must look at it.
 * Keep in step with the schema: packages/core/test/webhook-event-fast-path.test.ts compares both on many inputs.
 */
const NOT_PLAIN = Symbol("not plain");
type Plain<T> = T | typeof NOT_PLAIN;

const ID_STRING = /^\d{1,20}$/;
function plainId(value: unknown): Plain<string> {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? String(value) : NOT_PLAIN;
  return typeof value === "string" && ID_STRING.test(value) ? value : NOT_PLAIN;
}
function plainCount(value: unknown): Plain<number> {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : NOT_PLAIN;
}
function plainString(value: unknown, min: number, max: number): Plain<string> {
  return typeof value === "string" && value.length >= min && value.length <= max ? value : NOT_PLAIN;
}
function plainIds(value: unknown): Plain<string[]> {
  if (!Array.isArray(value) || value.length > 1000) return NOT_PLAIN;
  const ids: string[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const id = plainId(value[i]);
    if (id === NOT_PLAIN) return NOT_PLAIN;
    ids[i] = id;
  }
  return ids;
}

/** The schema's keys: the others pass through (loose). */
const SCHEMA_KEYS = new Set(Object.keys(hubspotEventFields.shape));

/**
 * Sets `out[key]` to the checked value of an optional field; false when zod must decide. An absent key is left out,
 * a key present with undefined (not JSON) goes to zod.
 */
function optional<T>(out: Record<string, unknown>, raw: object, key: string, value: unknown, checked: Plain<T>): boolean {
  if (value === undefined) return !(key in raw);
  if (checked === NOT_PLAIN) return false;
  out[key] = checked;
  return true;
}

/**
 * One event as `hubspotEventSchema` outputs it, or undefined. zod writes its output in the shape's order, then the
 * unknown keys; the transform then drops eventType and appends subscriptionType if it came from eventType.
 * Properties are read by name (not in a loop over the keys): V8 keeps those reads fast for JSON.parse's objects.
 */
function fastParseHubSpotEvent(input: unknown): HubSpotEvent | undefined {
  // A plain JSON object only: no arrays, class instances or odd prototypes.
  if (typeof input !== "object" || input === null || Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const raw = input as Partial<Record<keyof z.input<typeof hubspotEventFields>, unknown>>;
  const out: Record<string, unknown> = {};
  const eventId = plainId(raw.eventId);
  if (eventId === NOT_PLAIN) return undefined;
  out["eventId"] = eventId;
  if (!optional(out, raw, "subscriptionId", raw.subscriptionId, plainId(raw.subscriptionId))) return undefined;
  const portalId = plainId(raw.portalId);
  if (portalId === NOT_PLAIN) return undefined;
  out["portalId"] = portalId;
  if (!optional(out, raw, "appId", raw.appId, plainId(raw.appId))) return undefined;
  const occurredAt = plainCount(raw.occurredAt);
  if (occurredAt === NOT_PLAIN) return undefined;
  out["occurredAt"] = occurredAt;
  if (!optional(out, raw, "subscriptionType", raw.subscriptionType, plainString(raw.subscriptionType, 1, 100))) return undefined;
  // Checked like the others, but not output: the transform turns it into subscriptionType.
  const eventType = raw.eventType === undefined ? undefined : plainString(raw.eventType, 1, 100);
  if (eventType === NOT_PLAIN || (eventType === undefined && "eventType" in raw)) return undefined;
  if (raw.attemptNumber === undefined) {
    if ("attemptNumber" in raw) return undefined;
    out["attemptNumber"] = 0;
  } else if (!optional(out, raw, "attemptNumber", raw.attemptNumber, plainCount(raw.attemptNumber))) return undefined;
  const objectId = plainId(raw.objectId);
  if (objectId === NOT_PLAIN) return undefined;
  out["objectId"] = objectId;
  if (
    !optional(out, raw, "objectTypeId", raw.objectTypeId, plainString(raw.objectTypeId, 0, 20)) ||
    !optional(out, raw, "changeSource", raw.changeSource, plainString(raw.changeSource, 0, 100)) ||
    !optional(out, raw, "changeFlag", raw.changeFlag, plainString(raw.changeFlag, 0, 100)) ||
    !optional(out, raw, "sourceId", raw.sourceId, plainString(raw.sourceId, 0, 200)) ||
    !optional(out, raw, "propertyName", raw.propertyName, plainString(raw.propertyName, 0, 200)) ||
    !optional(out, raw, "propertyValue", raw.propertyValue, plainString(raw.propertyValue, 0, 65_536)) ||
    !optional(out, raw, "primaryObjectId", raw.primaryObjectId, plainId(raw.primaryObjectId)) ||
    !optional(out, raw, "mergedObjectIds", raw.mergedObjectIds, raw.mergedObjectIds === undefined ? NOT_PLAIN : plainIds(raw.mergedObjectIds)) ||
    !optional(out, raw, "newObjectId", raw.newObjectId, plainId(raw.newObjectId))
  ) {
    return undefined;
  }
  // loose(): unknown keys pass through as they are (zod never copies a "__proto__" key: left to it).
  for (const key in raw) {
    if (SCHEMA_KEYS.has(key)) continue;
    if (key === "__proto__") return undefined;
    out[key] = (raw as Record<string, unknown>)[key];
  }
  if (out["subscriptionType"] === undefined) {
    if (eventType === undefined) return undefined;
    out["subscriptionType"] = eventType;
  }
  return out as HubSpotEvent;
}

/** Subscription types LeadSync acts on; others are acknowledged and ignored. */
export const CONTACT_EVENT_TYPES = [
  "contact.creation",
  "contact.propertyChange",
  "contact.deletion",
  "contact.restore",
  "contact.merge",
  "contact.privacyDeletion",
] as const;
export type ContactEventType = (typeof CONTACT_EVENT_TYPES)[number];

export function isContactEvent(type: string): type is ContactEventType {
  return (CONTACT_EVENT_TYPES as readonly string[]).includes(type);
}
