import type { AppWebhooks } from "./app-webhooks.js";

/** Who made a change: a person in HubSpot's UI, or an API call of an integration. */
export interface ChangeSource {
  changeSource: "CRM_UI" | "INTEGRATION";
  sourceId: string;
}

/** What happened to a contact; the store reports only values that really changed. */
export type ContactChange =
  | { kind: "created"; contactId: string; occurredAt: number; changed: Record<string, string> }
  | { kind: "updated"; contactId: string; occurredAt: number; changed: Record<string, string> }
  | { kind: "deleted"; contactId: string; occurredAt: number }
  | { kind: "restored"; contactId: string; occurredAt: number }
  | { kind: "privacyDeleted"; contactId: string; occurredAt: number }
  | { kind: "merged"; contactId: string; occurredAt: number; mergedObjectIds: string[]; newObjectId: string; numberOfPropertiesMoved: number };

/** A webhook event as HubSpot posts it (hubspot-facts.md §2.2), before attemptNumber is set. */
export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  sourceId: string;
  changeFlag?: string;
  propertyName?: string;
  propertyValue?: string;
  primaryObjectId?: number;
  mergedObjectIds?: number[];
  newObjectId?: number;
  numberOfPropertiesMoved?: number;
}

interface EventContext {
  portalId: number;
  appId: number;
  source: ChangeSource;
  nextEventId: () => number;
}

/**
 * Turns one contact change into the events of the app's active subscriptions. A creation also emits a
 * propertyChange per subscribed property it set, as HubSpot does; a privacy deletion also emits a deletion.
 */
export function eventsForChange(change: ContactChange, webhooks: AppWebhooks, context: EventContext): WebhookEvent[] {
  const base = (subscriptionId: number, subscriptionType: string) => ({
    eventId: context.nextEventId(),
    subscriptionId,
    portalId: context.portalId,
    appId: context.appId,
    occurredAt: change.occurredAt,
    subscriptionType,
    attemptNumber: 0,
    objectId: Number(change.contactId),
    changeSource: context.source.changeSource,
    sourceId: context.source.sourceId,
  });
  const plain = (eventType: string, changeFlag: string) =>
    webhooks.matching(eventType).map((s): WebhookEvent => ({ ...base(s.id, eventType), changeFlag }));
  const propertyChanges = (changed: Record<string, string>) =>
    Object.entries(changed).flatMap(([propertyName, propertyValue]) =>
      webhooks
        .matching("contact.propertyChange", propertyName)
        .map((s): WebhookEvent => ({ ...base(s.id, "contact.propertyChange"), propertyName, propertyValue })),
    );

  switch (change.kind) {
    case "created":
      return [...plain("contact.creation", "CREATED"), ...propertyChanges(change.changed)];
    case "updated":
      return propertyChanges(change.changed);
    case "deleted":
      return plain("contact.deletion", "DELETED");
    case "restored":
      return plain("contact.restore", "RESTORED");
    case "privacyDeleted":
      return [...plain("contact.privacyDeletion", "DELETED"), ...plain("contact.deletion", "DELETED")];
    case "merged":
      return webhooks.matching("contact.merge").map((s): WebhookEvent => ({
        ...base(s.id, "contact.merge"),
        changeFlag: "MERGED",
        primaryObjectId: Number(change.contactId),
        mergedObjectIds: change.mergedObjectIds.map(Number),
        newObjectId: Number(change.newObjectId),
        numberOfPropertiesMoved: change.numberOfPropertiesMoved,
      }));
  }
}
