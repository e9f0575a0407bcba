import type { Logger } from "pino";
import type { WebhookSettings } from "./app-webhooks.js";
import type { WebhookEvent } from "./events.js";
import { signatureHeaders } from "./signing.js";

/** "Each request can contain up to 100 events" (hubspot-facts.md §2.1). */
export const MAX_EVENTS_PER_REQUEST = 100;

export type WebhookFaultKind = "drop_webhooks" | "fail_webhooks";

export interface DeliveryOptions {
  clientSecret: string;
  flushMs: number;
  retryDelaysMs: number[];
  timeoutMs: number;
  settings: () => WebhookSettings | undefined;
  /** consumes a webhook fault of the portal for one delivery attempt, if any is armed */
  takeFault: (portalId: number) => WebhookFaultKind | undefined;
  logger: Logger | undefined;
}

export interface DeliveryStats {
  delivered: number;
  failed: number;
  pending: number;
  dropped: number;
}

interface Batch {
  events: WebhookEvent[];
  attemptNumber: number;
}

class PortalQueue {
  buffer: WebhookEvent[] = [];
  flushTimer: NodeJS.Timeout | undefined;
  ready: Batch[] = [];
  inFlight = 0;
  stats: DeliveryStats = { delivered: 0, failed: 0, pending: 0, dropped: 0 };
}

/**
 * HubSpot's webhook delivery, per portal: events gather for `flushMs`, go out in signed batches of ≤100
 * with at most `maxConcurrentRequests` in flight, and a failed batch (non-2xx, timeout, connection error)
 * is retried after the next delay with attemptNumber+1 until the delays run out; then its events count as failed.
 */
export class WebhookDelivery {
  private readonly queues = new Map<number, PortalQueue>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(private readonly options: DeliveryOptions) {}

  enqueue(portalId: number, events: WebhookEvent[]): void {
    if (this.closed || events.length === 0) return;
    const queue = this.queue(portalId);
    queue.buffer.push(...events);
    queue.stats.pending += events.length;
    queue.flushTimer ??= setTimeout(() => this.flush(portalId), this.options.flushMs);
  }

  stats(portalId: number): DeliveryStats {
    return { ...this.queue(portalId).stats };
  }

  pendingTotal(): number {
    let pending = 0;
    for (const queue of this.queues.values()) pending += queue.stats.pending;
    return pending;
  }

  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingTotal() > 0) {
      if (Date.now() >= deadline) {
        throw new Error(`hubspot-sandbox: ${this.pendingTotal()} webhook event(s) still pending after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.closed = true;
    for (const queue of this.queues.values()) clearTimeout(queue.flushTimer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    for (const controller of this.inFlight) controller.abort();
    this.retryTimers.clear();
  }

  private queue(portalId: number): PortalQueue {
    let queue = this.queues.get(portalId);
    if (!queue) {
      queue = new PortalQueue();
      this.queues.set(portalId, queue);
    }
    return queue;
  }

  private flush(portalId: number): void {
    const queue = this.queue(portalId);
    queue.flushTimer = undefined;
    while (queue.buffer.length > 0) {
      queue.ready.push({ events: queue.buffer.splice(0, MAX_EVENTS_PER_REQUEST), attemptNumber: 0 });
    }
    this.pump(portalId);
  }

  private pump(portalId: number): void {
    const queue = this.queue(portalId);
    const maxInFlight = this.options.settings()?.maxConcurrentRequests ?? 10;
    while (!this.closed && queue.inFlight < maxInFlight && queue.ready.length > 0) {
      const batch = queue.ready.shift() as Batch;
      queue.inFlight++;
      void this.attempt(portalId, batch).finally(() => {
        queue.inFlight--;
        this.pump(portalId);
      });
    }
  }

  private async attempt(portalId: number, batch: Batch): Promise<void> {
    const queue = this.queue(portalId);
    const fault = this.options.takeFault(portalId);
    if (fault === "drop_webhooks") {
      queue.stats.dropped += batch.events.length;
      queue.stats.pending -= batch.events.length;
      return;
    }
    const ok = fault === "fail_webhooks" ? false : await this.post(portalId, batch);
    if (this.closed) return;
    if (ok) {
      queue.stats.delivered += batch.events.length;
      queue.stats.pending -= batch.events.length;
      return;
    }
    const delay = this.options.retryDelaysMs[batch.attemptNumber];
    if (delay === undefined) {
      queue.stats.failed += batch.events.length;
      queue.stats.pending -= batch.events.length;
      this.options.logger?.warn({ portalId, events: batch.events.length, attempts: batch.attemptNumber + 1 }, "webhook batch given up");
      return;
    }
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      queue.ready.push({ events: batch.events, attemptNumber: batch.attemptNumber + 1 });
      this.pump(portalId);
    }, delay);
    this.retryTimers.add(timer);
  }

  /** One POST of a batch; true on 2xx. The body (attemptNumber) and so the signatures change per attempt. */
  private async post(portalId: number, batch: Batch): Promise<boolean> {
    const settings = this.options.settings();
    if (!settings) return false; // no target URL: nothing to deliver to, retry later like a connection error
    const timestamp = Date.now();
    const body = JSON.stringify(batch.events.map((event) => ({ ...event, attemptNumber: batch.attemptNumber })));
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      const response = await fetch(settings.targetUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nonprod)",
          ...signatureHeaders(this.options.clientSecret, settings.targetUrl, body, timestamp),
        },
        body,
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined); // drain so the socket is reused
      if (!response.ok) {
        this.options.logger?.debug({ portalId, status: response.status, attemptNumber: batch.attemptNumber }, "webhook batch rejected");
      }
      return response.ok;
    } catch (err) {
      this.options.logger?.debug({ portalId, err: (err as Error).message, attemptNumber: batch.attemptNumber }, "webhook batch not delivered");
      return false;
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
  }
}
