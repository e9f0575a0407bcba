import type { AccountCallLimiter } from "@leadsync/core";
import { Counter, register } from "prom-client";

/**
 * Prometheus metrics of every provider's CRM calls that go through the shared limiter (HubSpot keeps its own,
 * `leadsync_hubspot_*`): calls granted, refusals by our limiter, and the CRM's own refusals (pauses), by provider,
 * account and operation. In prom-client's default registry, get-or-create (several processes' worth of tests share one).
 */
function counter(name: string, help: string, labelNames: string[]): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames });
}

export const crmCallMetrics = {
  calls: counter("leadsync_crm_calls_total", "CRM API calls granted by the shared limiter, by provider, account and operation", ["provider", "account", "operation"]),
  refused: counter("leadsync_crm_calls_refused_total", "CRM API calls our limiter held back for want of budget, by provider, account and limit", ["provider", "account", "limit"]),
  paused: counter("leadsync_crm_rate_limited_total", "Times a CRM refused for its limits (429 or a limit error) and paused the account, by provider, account and reason", ["provider", "account", "reason"]),
};

/** The limiter, counting what it grants, refuses and pauses into `crmCallMetrics`. */
export function countingLimiter(limiter: AccountCallLimiter, provider: string, account: string): AccountCallLimiter {
  return {
    async acquire(operation, cost) {
      try {
        await limiter.acquire(operation, cost);
      } catch (error) {
        const limit = (error as { policy?: unknown }).policy;
        crmCallMetrics.refused.inc({ provider, account, limit: typeof limit === "string" ? limit : "unknown" });
        throw error;
      }
      crmCallMetrics.calls.inc({ provider, account, operation });
    },
    ...(limiter.release ? { release: (operation: string) => (limiter.release as (op: string) => Promise<void>)(operation) } : {}),
    observe: (usage) => limiter.observe(usage),
    async pause(ms, reason) {
      crmCallMetrics.paused.inc({ provider, account, reason });
      await limiter.pause(ms, reason);
    },
  };
}
