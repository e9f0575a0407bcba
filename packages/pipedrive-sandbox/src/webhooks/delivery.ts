import type { Logger } from "pino";
import type { Company, Webhook } from "../state/company.js";

/** One webhook v2 event for one webhook; `meta.attempt` is set per delivery attempt. */
export interface PendingEvent {
  company: Company;
  webhook: Webhook;
  meta: Record<string, unknown>;
  data: Record<string, unknown> | null;
  previous: Record<string, unknown> | null;
}

export interface DeliveryStats {
  delivered: number;
  /** events whose 4 attempts all failed */
  failed: number;
  pending: number;
  /** events a `drop_webhooks` fault swallowed */
  dropped: number;
  /** events raised while their webhook was banned */
  lost: number;
}

export interface DeliveryOptions {
  now: () => number;
  retryDelaysMs: number[];
  timeoutMs: number;
  banThreshold: number;
  banMs: number;
  takeFault: (companyId: number) => "drop_webhooks" | "fail_webhooks" | undefined;
  logger: Logger | undefined;
}

const THREE_DAYS_MS = 3 * 24 * 60 * 60 * 1000;

/**
 * Webhooks v2 delivery (providers-facts §4.4): one POST per event with HTTP Basic auth from the webhook's
 * credentials; any 2xx succeeds; a non-2xx, a connection error or more than 10 s fails and is retried after
 * 3, 30 and 150 s (`attempt` 1–4). Every failed first attempt raises the webhook's ban counter: at 10 it is banned
 * for 30 min and events in that time are lost. No success for 3 days deletes the webhook.
 */
export class WebhookDelivery {
  private readonly stats = new Map<number, DeliveryStats>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(private readonly options: DeliveryOptions) {}

  enqueue(event: PendingEvent): void {
    if (this.closed) return;
    const stats = this.statsOf(event.company.id);
    const now = this.options.now();
    if (event.webhook.bannedUntil !== null && event.webhook.bannedUntil > now) {
      stats.lost++;
      return;
    }
    stats.pending++;
    void this.attempt(event, 1);
  }

  statsOf(companyId: number): DeliveryStats {
    let stats = this.stats.get(companyId);
    if (!stats) {
      stats = { delivered: 0, failed: 0, pending: 0, dropped: 0, lost: 0 };
      this.stats.set(companyId, stats);
    }
    return stats;
  }

  pendingTotal(): number {
    let pending = 0;
    for (const stats of this.stats.values()) pending += stats.pending;
    return pending;
  }

  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingTotal() > 0) {
      if (Date.now() >= deadline) throw new Error(`pipedrive-sandbox: ${this.pendingTotal()} webhook event(s) still pending after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const controller of this.inFlight) controller.abort();
    this.timers.clear();
  }

  private async attempt(event: PendingEvent, attempt: number): Promise<void> {
    const { company, webhook } = event;
    const stats = this.statsOf(company.id);
    const settle = (outcome: "delivered" | "failed" | "dropped" | "lost") => {
      stats.pending--;
      stats[outcome]++;
    };
    if (!company.webhooks.includes(webhook) || webhook.is_active === 0) return settle("failed");
    const now = this.options.now();
    if (webhook.bannedUntil !== null && webhook.bannedUntil > now) return settle("lost");

    const fault = this.options.takeFault(company.id);
    if (fault === "drop_webhooks") return settle("dropped");
    const status = fault === "fail_webhooks" ? 0 : await this.post(event, attempt);
    if (this.closed) return;
    const ok = status >= 200 && status < 300;
    webhook.last_delivery_time = this.options.now();
    webhook.last_http_status = status === 0 ? null : status;
    if (ok) {
      webhook.failedFirstAttempts = 0;
      webhook.failingSince = null;
      return settle("delivered");
    }

    const failedAt = this.options.now();
    webhook.failingSince ??= failedAt;
    if (failedAt - webhook.failingSince >= THREE_DAYS_MS) {
      webhook.is_active = 0;
      webhook.remove_time = failedAt;
      webhook.remove_reason = "no successful delivery for 3 days";
      company.webhooks.splice(company.webhooks.indexOf(webhook), 1);
      return settle("failed");
    }
    if (attempt === 1 && ++webhook.failedFirstAttempts >= this.options.banThreshold) {
      webhook.bannedUntil = failedAt + this.options.banMs;
      webhook.failedFirstAttempts = 0;
      this.options.logger?.warn({ webhookId: webhook.id }, "webhook banned after repeated failed first attempts");
    }
    const delay = this.options.retryDelaysMs[attempt - 1];
    if (delay === undefined || attempt >= 4) return settle("failed");
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(event, attempt + 1);
    }, delay);
    this.timers.add(timer);
  }

  /** One POST of one event; the HTTP status, or 0 for a timeout or connection error. */
  private async post(event: PendingEvent, attempt: number): Promise<number> {
    const { webhook } = event;
    const body = JSON.stringify({ meta: { ...event.meta, attempt }, data: event.data, previous: event.previous });
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Pipedrive Webhooks" };
    if (webhook.http_auth_user !== null) {
      headers["authorization"] = `Basic ${Buffer.from(`${webhook.http_auth_user}:${webhook.http_auth_password ?? ""}`).toString("base64")}`;
    }
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      const response = await fetch(webhook.subscription_url, { method: "POST", headers, body, signal: controller.signal, redirect: "manual" });
      await response.arrayBuffer().catch(() => undefined);
      return response.status;
    } catch (err) {
      this.options.logger?.debug({ webhookId: webhook.id, attempt, err: (err as Error).message }, "webhook not delivered");
      return 0;
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
  }
}
