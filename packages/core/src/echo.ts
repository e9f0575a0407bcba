import type { HubSpotEvent } from "./webhook-event.js";

/**
 * Echoes: webhook events that our own writes to the CRM caused. They need no read and change nothing.
 * HubSpot says who made a change (`changeSource`, `sourceId` = the app id for API writes); where it does not,
 * what we last pushed decides. (Not its time: the link records the push after HubSpot answered, so the echo's
 * occurredAt is always a little earlier; a value a person sets back is recognised by its source instead.)
 */

export interface EchoContext {
  /** Our app's id in the CRM (HUBSPOT_APP_ID), when known. */
  appId: string | undefined;
  /** What we last pushed per CRM property. */
  lastPushed: Readonly<Record<string, unknown>>;
}

/** The event says it came from our app. */
export function isOwnAppChange(event: Pick<HubSpotEvent, "changeSource" | "sourceId">, appId: string | undefined): boolean {
  return appId !== undefined && event.changeSource === "INTEGRATION" && event.sourceId === appId;
}

/** The event says a person or another app made the change (so it is never our echo). */
export function isForeignChange(event: Pick<HubSpotEvent, "changeSource" | "sourceId">, appId: string | undefined): boolean {
  if (event.changeSource === undefined) return false;
  if (event.changeSource === "INTEGRATION") return appId !== undefined && event.sourceId !== undefined && event.sourceId !== appId;
  return true;
}

/** A property change our own push caused. */
export function isPropertyChangeEcho(event: HubSpotEvent, ctx: EchoContext): boolean {
  if (event.subscriptionType !== "contact.propertyChange" || event.propertyName === undefined) return false;
  if (isOwnAppChange(event, ctx.appId)) return true;
  if (isForeignChange(event, ctx.appId)) return false;
  return event.propertyValue !== undefined && ctx.lastPushed[event.propertyName] === event.propertyValue;
}

/**
 * A change our own write caused (any provider): the feed names our app or client (`origin: self`); where it names
 * nobody, every changed field carries the value we last pushed (the write ledger). A change the feed attributes to
 * a person or another app is never an echo, even when it sets a value we pushed before.
 */
export function isEchoOfOurWrite(
  change: { origin: "self" | "other" | "unknown"; fields?: Readonly<Record<string, string | null>> },
  lastPushed: Readonly<Record<string, unknown>>,
): boolean {
  if (change.origin === "self") return true;
  if (change.origin === "other" || change.fields === undefined) return false;
  const entries = Object.entries(change.fields);
  return entries.length > 0 && entries.every(([property, value]) => value !== null && lastPushed[property] === value);
}
