import type { ProviderIntegration, RatePolicy } from "@leadsync/core";

/**
 * Salesforce's API allowance (providers-facts.md §2.5) as limit-policy data (core's `RatePolicy`) for the shared
 * limiter (`@leadsync/ratelimit`):
 * - requests per rolling 24 h, per org (not per user), shared with the org's other integrations;
 * - concurrent long-running requests (≥ 20 s): 25 in production and sandboxes, 5 in Developer Edition and trials.
 *   We cannot know beforehand which call will run long, so every call holds a slot for its duration.
 */

export type SalesforceEdition = "developer" | "trial" | "professional" | "enterprise" | "unlimited" | "performance" | "full_sandbox";

export const SALESFORCE_EDITIONS: readonly SalesforceEdition[] = ["developer", "trial", "professional", "enterprise", "unlimited", "performance", "full_sandbox"];

export interface SalesforceLimitPolicy extends RatePolicy {
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
  const devLike = isDevLike(edition);
  return {
    limits: [{ kind: "rolling", name: "daily", limit: Math.max(1, Math.floor(allowance * share)), windowMs: DAY_MS }],
    concurrency: { name: "long-requests", maxConcurrent: devLike ? 5 : 25, leaseMs: LEASE_MS },
  };
}

/** Developer Edition and trials allow 5 concurrent long requests; everything else 25. */
export function isDevLike(edition: SalesforceEdition): boolean {
  return edition === "developer" || edition === "trial";
}

/**
 * The policy of one integration: the org's own allowance as `GET /limits` reported it at connect
 * (`state.dailyApiRequests`, exact, add-ons included), else the edition's figure; the concurrency cap by edition.
 * An unknown tier counts as Developer Edition (the smallest). Operator overrides: `settings.rateLimit =
 * { daily?, concurrency? }`.
 */
export function salesforceLimitPolicy(integration: Pick<ProviderIntegration, "tier" | "settings" | "state">): SalesforceLimitPolicy {
  const edition = editionOf(integration.tier);
  const reported = integration.state["dailyApiRequests"];
  const licenses = integration.state["licenses"];
  const policy = salesforceBudget(edition, typeof licenses === "number" ? licenses : 0);
  if (typeof reported === "number" && reported > 0) policy.limits[0].limit = reported;
  const override = rateLimitOverride(integration.settings);
  if (override.daily !== undefined) policy.limits[0].limit = override.daily;
  if (override.concurrency !== undefined) policy.concurrency.maxConcurrent = override.concurrency;
  return policy;
}

export function editionOf(tier: string | undefined): SalesforceEdition {
  return SALESFORCE_EDITIONS.includes(tier as SalesforceEdition) ? (tier as SalesforceEdition) : "developer";
}

function rateLimitOverride(settings: unknown): { daily?: number; concurrency?: number } {
  const value = typeof settings === "object" && settings !== null ? (settings as Record<string, unknown>)["rateLimit"] : undefined;
  if (typeof value !== "object" || value === null) return {};
  const out: { daily?: number; concurrency?: number } = {};
  for (const key of ["daily", "concurrency"] as const) {
    const n = (value as Record<string, unknown>)[key];
    if (typeof n === "number" && Number.isFinite(n) && n > 0) out[key] = Math.floor(n);
  }
  return out;
}
