import type { Client } from "@hubspot/api-client";
import type { SubscriptionCreateRequest } from "@hubspot/api-client/lib/codegen/webhooks/index.js";
import { DEFAULT_HUBSPOT_FIELD_MAPPING, LEAD_SOURCE_PROPERTY, type FieldMapping } from "@leadsync/core";
import { toHubSpotError } from "./errors.js";
import { createHubSpotClient } from "./sdk-client.js";

/**
 * The app's webhook target and contact subscriptions, through HubSpot's webhooks v3 API (legacy public
 * apps; authenticated with the developer API key). Idempotent: existing subscriptions are reused and
 * paused ones activated, so running it twice creates nothing new.
 */

export interface WebhookAppOptions {
  basePath: string;
  appId: number | string;
  developerApiKey: string;
}

export interface EnableWebhookSubscriptionsOptions extends WebhookAppOptions {
  targetUrl: string;
  /** One `contact.propertyChange` subscription per property. */
  propertyNames: readonly string[];
  /** Further object-level event types to subscribe to (e.g. contact.merge), besides creation and deletion. */
  eventTypes?: readonly string[];
  /** HubSpot's in-flight request cap per installing account (default 10; HubSpot requires more than 5). */
  maxConcurrentRequests?: number;
}

export interface WebhookSubscription {
  id: string;
  eventType: string;
  propertyName?: string;
  active: boolean;
}

const DEFAULT_MAX_CONCURRENT_REQUESTS = 10;

export async function listWebhookSubscriptions(options: WebhookAppOptions): Promise<WebhookSubscription[]> {
  return listWith(webhooksClient(options), appIdOf(options));
}

export async function enableWebhookSubscriptions(options: EnableWebhookSubscriptionsOptions): Promise<WebhookSubscription[]> {
  const client = webhooksClient(options);
  const appId = appIdOf(options);
  try {
    await client.webhooks.settingsApi.configure(appId, {
      targetUrl: options.targetUrl,
      throttling: { maxConcurrentRequests: options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS },
    });
  } catch (err) {
    throw toHubSpotError(err, "webhook settings configure");
  }

  const wanted: Array<{ eventType: string; propertyName?: string }> = [
    { eventType: "contact.creation" },
    { eventType: "contact.deletion" },
    ...(options.eventTypes ?? []).map((eventType) => ({ eventType })),
    ...[...new Set(options.propertyNames)].map((propertyName) => ({ eventType: "contact.propertyChange", propertyName })),
  ];
  const existing = await listWith(client, appId);
  const result: WebhookSubscription[] = [];
  for (const want of wanted) {
    const found = existing.find((s) => s.eventType === want.eventType && (s.propertyName ?? undefined) === want.propertyName);
    if (found && found.active) {
      result.push(found);
    } else if (found) {
      result.push(await activate(client, appId, found));
    } else {
      result.push(await create(client, appId, want));
    }
  }
  return result;
}

async function activate(client: Client, appId: number, subscription: WebhookSubscription): Promise<WebhookSubscription> {
  try {
    return toSubscription(await client.webhooks.subscriptionsApi.update(Number(subscription.id), appId, { active: true }));
  } catch (err) {
    throw toHubSpotError(err, "webhook subscription activate");
  }
}

async function create(client: Client, appId: number, want: { eventType: string; propertyName?: string }): Promise<WebhookSubscription> {
  const request: SubscriptionCreateRequest = {
    eventType: want.eventType as SubscriptionCreateRequest["eventType"],
    active: true,
    ...(want.propertyName === undefined ? {} : { propertyName: want.propertyName }),
  };
  try {
    return toSubscription(await client.webhooks.subscriptionsApi.create(appId, request));
  } catch (err) {
    throw toHubSpotError(err, "webhook subscription create");
  }
}

async function listWith(client: Client, appId: number): Promise<WebhookSubscription[]> {
  try {
    const response = await client.webhooks.subscriptionsApi.getAll(appId);
    return response.results.map(toSubscription);
  } catch (err) {
    throw toHubSpotError(err, "webhook subscriptions list");
  }
}

function toSubscription(s: { id: string | number; eventType: string; propertyName?: string; active: boolean }): WebhookSubscription {
  return { id: String(s.id), eventType: s.eventType, active: s.active, ...(s.propertyName ? { propertyName: s.propertyName } : {}) };
}

function webhooksClient(options: WebhookAppOptions): Client {
  return createHubSpotClient({ basePath: options.basePath, developerApiKey: options.developerApiKey });
}

function appIdOf(options: WebhookAppOptions): number {
  const appId = Number(options.appId);
  if (!Number.isInteger(appId) || appId <= 0) throw new RangeError(`invalid HubSpot appId: ${String(options.appId)}`);
  return appId;
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

