import { Counter, Histogram, register } from "prom-client";

/**
 * Prometheus metrics of HubSpot calls, in prom-client's default registry (the process's `/metrics`).
 * Get-or-create: several providers (and test runs) in one process share the same series.
 * Labels are the portal id and the operation name ("contacts batch read"), never a URL with ids.
 */
function getOrCreate<M>(name: string, create: () => M): M {
  return (register.getSingleMetric(name) as M | undefined) ?? create();
}

export const hubspotCallMetrics = {
  calls: getOrCreate(
    "leadsync_hubspot_calls_total",
    () => new Counter({ name: "leadsync_hubspot_calls_total", help: "HubSpot API calls sent, by portal, endpoint and HTTP status", labelNames: ["portal", "endpoint", "status"] }),
  ),
  throttled: getOrCreate(
    "leadsync_hubspot_rate_limited_total",
    () =>
      new Counter({
        name: "leadsync_hubspot_rate_limited_total",
        help: "HubSpot calls answered 429, by portal, endpoint and HubSpot's policyName",
        labelNames: ["portal", "endpoint", "policy"],
      }),
  ),
  duration: getOrCreate(
    "leadsync_hubspot_call_duration_seconds",
    () =>
      new Histogram({
        name: "leadsync_hubspot_call_duration_seconds",
        help: "HubSpot API call latency, by portal and endpoint",
        labelNames: ["portal", "endpoint"],
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
  ),
};
