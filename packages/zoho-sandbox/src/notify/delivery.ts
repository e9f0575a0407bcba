import type { Logger } from "pino";
import type { Channel } from "../state/channels.js";
import type { Operation } from "../state/leads.js";

/** Ids per callback: Zoho sends one callback per write and operation; a 100-record write is one callback. */
export const MAX_IDS_PER_CALLBACK = 100;

export type NotificationFaultKind = "drop_notifications" | "fail_notifications";

export interface NotificationStats {
  /** record ids (not requests) delivered / given up / waiting / dropped by a fault */
  delivered: number;
  failed: number;
  pending: number;
  dropped: number;
}

/** The callback body (providers-facts §3.4). No actor: Zoho's callback does not say who changed the record. */
export interface CallbackBody {
  server_time: number;
  query_params: Record<string, string>;
  module: "Leads";
  resource_uri: string;
  ids: string[];
  affected_fields: Record<string, string[]>[];
  operation: Operation;
  channel_id: string;
  token?: string;
}

interface Pending {
  accountId: string;
  channelId: string;
  operation: Operation;
  ids: string[];
  affected: Map<string, string[]>;
}

interface Attempt {
  accountId: string;
  channelId: string;
  body: CallbackBody;
  attempt: number;
}

export interface DeliveryOptions {
  flushMs: number;
  retryDelaysMs: number[];
  timeoutMs: number;
  /** the channel as it is now (undefined once expired or deleted: its callbacks stop) */
  channel(accountId: string, channelId: string): Channel | undefined;
  resourceUri(accountId: string): string;
  takeFault(accountId: string): NotificationFaultKind | undefined;
  logger: Logger | undefined;
}

/**
 * Callback delivery. Changes gather for `flushMs` per channel and operation, then go out as callbacks of ≤100 ids.
 * A callback answered non-2xx, timed out or unreachable is retried after each of `retryDelaysMs` (Zoho documents no
 * retry policy: UNCERTAIN, see README), then given up. A channel that expires meanwhile stops its callbacks.
 */
export class NotificationDelivery {
  private readonly pending = new Map<string, Pending>();
  private readonly flushTimers = new Map<string, NodeJS.Timeout>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private readonly stats = new Map<string, NotificationStats>();
  private closed = false;

  constructor(private readonly options: DeliveryOptions) {}

  enqueue(accountId: string, channel: Channel, operation: Operation, id: string, affectedFields: string[]): void {
    if (this.closed) return;
    const key = `${accountId}\u0000${channel.channelId}\u0000${operation}`;
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { accountId, channelId: channel.channelId, operation, ids: [], affected: new Map() };
      this.pending.set(key, batch);
    }
    // the same record changed twice within the window is one id in one callback, as Zoho batches a write
    if (!batch.affected.has(id)) {
      batch.ids.push(id);
      this.statsOf(accountId).pending++;
    }
    batch.affected.set(id, [...new Set([...(batch.affected.get(id) ?? []), ...affectedFields])]);
    if (!this.flushTimers.has(key)) this.flushTimers.set(key, setTimeout(() => this.flush(key), this.options.flushMs));
  }

  statsOf(accountId: string): NotificationStats {
    let stats = this.stats.get(accountId);
    if (!stats) {
      stats = { delivered: 0, failed: 0, pending: 0, dropped: 0 };
      this.stats.set(accountId, stats);
    }
    return stats;
  }

  pendingTotal(): number {
    let total = 0;
    for (const stats of this.stats.values()) total += stats.pending;
    return total;
  }

  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingTotal() > 0) {
      if (Date.now() >= deadline) throw new Error(`zoho-sandbox: ${this.pendingTotal()} notification(s) still pending after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.flushTimers.values()) clearTimeout(timer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    for (const controller of this.controllers) controller.abort();
  }

  private flush(key: string): void {
    this.flushTimers.delete(key);
    const batch = this.pending.get(key);
    this.pending.delete(key);
    if (!batch) return;
    const channel = this.options.channel(batch.accountId, batch.channelId);
    if (!channel) return this.settle(batch.accountId, batch.ids.length, "failed");
    const serverTime = Date.now();
    for (let i = 0; i < batch.ids.length; i += MAX_IDS_PER_CALLBACK) {
      const ids = batch.ids.slice(i, i + MAX_IDS_PER_CALLBACK);
      const body: CallbackBody = {
        server_time: serverTime,
        query_params: Object.fromEntries(new URL(channel.notifyUrl).searchParams),
        module: "Leads",
        resource_uri: this.options.resourceUri(batch.accountId),
        ids,
        // practitioners report an empty list on inserts (providers-facts §3.4)
        affected_fields: batch.operation === "update" ? ids.map((id) => ({ [id]: batch.affected.get(id) ?? [] })) : [],
        operation: batch.operation,
        channel_id: channel.channelId,
        ...(channel.token === undefined ? {} : { token: channel.token }),
      };
      void this.attempt({ accountId: batch.accountId, channelId: channel.channelId, body, attempt: 0 });
    }
  }

  private async attempt(attempt: Attempt): Promise<void> {
    const count = attempt.body.ids.length;
    const channel = this.options.channel(attempt.accountId, attempt.channelId);
    if (!channel) return this.settle(attempt.accountId, count, "failed"); // expired: it stops notifying
    const fault = this.options.takeFault(attempt.accountId);
    if (fault === "drop_notifications") return this.settle(attempt.accountId, count, "dropped");
    const ok = fault === "fail_notifications" ? false : await this.post(channel.notifyUrl, attempt.body);
    if (this.closed) return;
    if (ok) return this.settle(attempt.accountId, count, "delivered");
    const delay = this.options.retryDelaysMs[attempt.attempt];
    if (delay === undefined) {
      this.options.logger?.warn({ accountId: attempt.accountId, channelId: attempt.channelId, ids: count }, "callback given up");
      return this.settle(attempt.accountId, count, "failed");
    }
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void this.attempt({ ...attempt, attempt: attempt.attempt + 1 });
    }, delay);
    this.retryTimers.add(timer);
  }

  private settle(accountId: string, count: number, outcome: "delivered" | "failed" | "dropped"): void {
    const stats = this.statsOf(accountId);
    stats.pending -= count;
    stats[outcome] += count;
  }

  private async post(url: string, body: CallbackBody): Promise<boolean> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "ZohoCRM-Notifications (zoho-sandbox)" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok;
    } catch {
      return false;
    } finally {
      clearTimeout(timeout);
      this.controllers.delete(controller);
    }
  }
}
