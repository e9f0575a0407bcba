import { Counter, register } from "prom-client";

/**
 * The worker's Prometheus metrics, in prom-client's default registry. Get-or-create, because tests start
 * several worker sets in one process and a metric name may be registered only once.
 */
function counter(name: string, help: string, labelNames: string[] = []): Counter {
  const existing = register.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames });
}

export const metrics = {
  unknownPortalEvents: counter(
    "leadsync_webhook_events_unknown_portal_total",
    "Webhook events for a portal that has no integration (dropped).",
  ),
  inboundEvents: counter("leadsync_webhook_events_total", "Webhook events handled by the inbound worker, by outcome.", [
    "outcome",
  ]),
  outboundLeads: counter("leadsync_outbound_leads_total", "Leads pushed to the CRM by the outbound worker, by result.", [
    "result",
  ]),
};
