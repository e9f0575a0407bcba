import { HubSpotError, notFound, validationError } from "../http/errors.js";
import { DEFAULT_SUBSCRIBED_PROPERTIES } from "../options.js";

export interface WebhookSettings {
  targetUrl: string;
  maxConcurrentRequests: number;
  createdAt: number;
  updatedAt: number;
}

export interface Subscription {
  id: number;
  eventType: string;
  propertyName?: string;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

/** HubSpot's default and its documented floor ("must be a number greater than five"). */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 10;
const MAX_SUBSCRIPTIONS = 1000;

/** The developer app's webhook configuration (webhooks v3 API): one target URL and the subscriptions, for every portal. */
export class AppWebhooks {
  settings: WebhookSettings | undefined;
  private readonly subscriptions = new Map<number, Subscription>();
  private nextId = 1;

  constructor(targetUrl: string | undefined, defaultSubscriptions: boolean, now = Date.now()) {
    if (targetUrl) this.configure(targetUrl, DEFAULT_MAX_CONCURRENT_REQUESTS, now);
    if (defaultSubscriptions) {
      this.create({ eventType: "contact.creation", active: true }, now);
      this.create({ eventType: "contact.deletion", active: true }, now);
      for (const propertyName of DEFAULT_SUBSCRIBED_PROPERTIES) {
        this.create({ eventType: "contact.propertyChange", propertyName, active: true }, now);
      }
    }
  }

  configure(targetUrl: string, maxConcurrentRequests: number, now = Date.now()): WebhookSettings {
    if (maxConcurrentRequests < 5) throw validationError("throttling.maxConcurrentRequests must be at least 5");
    this.settings = { targetUrl, maxConcurrentRequests, createdAt: this.settings?.createdAt ?? now, updatedAt: now };
    return this.settings;
  }

  snapshot(): { settings: WebhookSettings | undefined; subscriptions: Subscription[]; nextId: number } {
    return { settings: this.settings, subscriptions: this.list(), nextId: this.nextId };
  }

  /** Replaces the settings and subscriptions with a snapshot's. */
  restoreSnapshot(snapshot: { settings: WebhookSettings | undefined; subscriptions: readonly Subscription[]; nextId: number }): void {
    this.settings = snapshot.settings;
    this.subscriptions.clear();
    for (const subscription of snapshot.subscriptions) this.subscriptions.set(subscription.id, subscription);
    this.nextId = snapshot.nextId;
  }

  clear(): void {
    this.settings = undefined;
  }

  list(): Subscription[] {
    return [...this.subscriptions.values()];
  }

  get(id: number): Subscription {
    const subscription = this.subscriptions.get(id);
    if (!subscription) throw notFound(`Subscription ${id} not found`);
    return subscription;
  }

  create(input: { eventType: string; propertyName?: string | undefined; active?: boolean | undefined }, now = Date.now()): Subscription {
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      throw validationError("Couldn't create another subscription. You've reached the maximum number allowed per application (1000).");
    }
    const needsProperty = input.eventType.endsWith(".propertyChange");
    if (needsProperty && !input.propertyName) throw validationError("propertyName is required for propertyChange subscriptions");
    const duplicate = this.list().find((s) => s.eventType === input.eventType && s.propertyName === input.propertyName);
    if (duplicate) {
      throw new HubSpotError(409, "CONFLICT", `A subscription for ${input.eventType}${input.propertyName ? ` ${input.propertyName}` : ""} already exists`);
    }
    const subscription: Subscription = {
      id: this.nextId++,
      eventType: input.eventType,
      ...(needsProperty && input.propertyName !== undefined && { propertyName: input.propertyName }),
      active: input.active ?? false, // HubSpot creates subscriptions paused unless asked otherwise
      createdAt: now,
      updatedAt: now,
    };
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  setActive(id: number, active: boolean, now = Date.now()): Subscription {
    const subscription = this.get(id);
    subscription.active = active;
    subscription.updatedAt = now;
    return subscription;
  }

  remove(id: number): void {
    this.get(id);
    this.subscriptions.delete(id);
  }

  /** Active subscriptions for an event type (and property, for propertyChange). */
  matching(eventType: string, propertyName?: string): Subscription[] {
    return this.list().filter(
      (s) => s.active && s.eventType === eventType && (propertyName === undefined || s.propertyName === propertyName),
    );
  }
}
