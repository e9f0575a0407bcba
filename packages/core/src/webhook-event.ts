import { z } from "zod";

/**
 * One HubSpot webhook event (hubspot-facts.md §2). HubSpot posts a JSON array of up to 100.
 * Unknown fields are kept (passthrough): HubSpot adds fields over time and a redelivery must hash the same.
 */
const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String);

export const hubspotEventSchema = z
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
  .loose()
  .refine((e) => e.subscriptionType ?? e.eventType, { message: "subscriptionType is required", path: ["subscriptionType"] })
  .transform(({ eventType, ...e }) => ({ ...e, subscriptionType: (e.subscriptionType ?? eventType) as string }));

export type HubSpotEvent = z.output<typeof hubspotEventSchema>;

export const MAX_EVENTS_PER_WEBHOOK = 100;

export const hubspotEventBatchSchema = z.array(hubspotEventSchema).min(1).max(MAX_EVENTS_PER_WEBHOOK);

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
