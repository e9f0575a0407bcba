/**
 * Salesforce's API allowance (providers-facts.md §2.5) as limit-policy data for the shared limiter
 * (`@leadsync/ratelimit`'s `RatePolicy` shape, restated here so this package does not depend on it):
 * - requests per rolling 24 h, per org (not per user), shared with the org's other integrations;
 * - concurrent long-running requests (≥ 20 s): 25 in production and sandboxes, 5 in Developer Edition and trials.
 *   We cannot know beforehand which call will run long, so every call holds a slot for its duration.
 */

export type SalesforceEdition = "developer" | "trial" | "professional" | "enterprise" | "unlimited" | "performance" | "full_sandbox";

export interface SalesforceLimitPolicy {
  limits: [{ kind: "rolling"; name: "daily"; limit: number; windowMs: number }];
  concurrency: { name: "long-requests"; maxConcurrent: number; leaseMs: number };
}

const DAY_MS = 24 * 60 * 60_000;
/** Salesforce times a REST call out after 10 minutes; a lease a little longer never lapses under a live call. */
const LEASE_MS = 11 * 60_000;
const BASE_ALLOWANCE = 100_000;

/**
 * The org's allowance by edition and licences. `licenses` counts Salesforce and Salesforce Platform user licences
 * (1,000 calls each on Professional/Enterprise, 5,000 on Unlimited/Performance); `addOnRequests` purchased extra calls.
 * Trials are assumed to get Developer Edition's figures (15,000, 5 concurrent): the docs group them for concurrency
 * and say nothing firmer for the daily count.
 */
export function salesforceDailyAllowance(edition: SalesforceEdition, licenses: number, addOnRequests = 0): number {
  const seats = Math.max(0, Math.trunc(licenses));
  const extra = Math.max(0, Math.trunc(addOnRequests));
  switch (edition) {
    case "developer":
    case "trial":
      return 15_000 + extra;
    case "professional":
    case "enterprise":
      return BASE_ALLOWANCE + seats * 1_000 + extra;
    case "unlimited":
    case "performance":
      return BASE_ALLOWANCE + seats * 5_000 + extra;
    case "full_sandbox":
      return 5_000_000 + extra;
  }
}

/**
 * The limit policy for one org. `share` is the part of the org's allowance this integration may use (default all
 * of it; the shared limiter applies its own safety margin on top). The limiter corrects its count from
 * `Sforce-Limit-Info` (`observe({ window: "daily" })`), which also counts the org's other clients.
 */
export function salesforceBudget(edition: SalesforceEdition, licenses: number, options: { share?: number; addOnRequests?: number } = {}): SalesforceLimitPolicy {
  const share = Math.min(1, Math.max(0, options.share ?? 1));
  const allowance = salesforceDailyAllowance(edition, licenses, options.addOnRequests);
  const devLike = edition === "developer" || edition === "trial";
  return {
    limits: [{ kind: "rolling", name: "daily", limit: Math.max(1, Math.floor(allowance * share)), windowMs: DAY_MS }],
    concurrency: { name: "long-requests", maxConcurrent: devLike ? 5 : 25, leaseMs: LEASE_MS },
  };
}
