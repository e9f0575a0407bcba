import { Counter, register } from "prom-client";

/**
 * Webhook counters in prom-client's default registry. The registry is process-wide while the receiver can be built
 * more than once per process (tests, `pnpm start` composing it with the API), so each counter is created once.
 */
function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = register.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames });
}

export const webhookMetrics = {
  received: counter("leadsync_webhooks_received_total", "Webhook batches accepted and queued, by provider", ["provider"]),
  rejected: counter("leadsync_webhooks_rejected_total", "Webhook requests rejected, by reason", ["reason"]),
  events: counter("leadsync_webhook_events_received_total", "Webhook events accepted and queued, by subscription type", ["type"]),
};
