import type { RatePolicy } from "@leadsync/core";
/**
 * Zoho's API allowance per org (providers-facts §3.5), as limit-policy data for the shared limiter: credits per
 * rolling 24 h by edition and paid users, and calls in flight per org.
 */
export const ZOHO_EDITIONS = ["free", "standard", "professional", "enterprise", "ultimate"] as const;
export type ZohoEdition = (typeof ZOHO_EDITIONS)[number];

export interface ZohoBudget {
  /** credits per rolling 24 h */
  creditsPerDay: number;
  windowMs: number;
  /** calls in flight at once for the org (per app) */
  concurrency: number;
  /** Zoho's sub-concurrency of heavy APIs (search, COQL, …) on every edition */
  heavyConcurrency: number;
}

const TABLE: Readonly<Record<ZohoEdition, { base: number; perUser: number; ceiling: number | null; concurrency: number }>> = {
  free: { base: 5_000, perUser: 0, ceiling: 5_000, concurrency: 5 },
  standard: { base: 50_000, perUser: 250, ceiling: 100_000, concurrency: 10 },
  professional: { base: 50_000, perUser: 500, ceiling: 3_000_000, concurrency: 15 },
  enterprise: { base: 50_000, perUser: 1_000, ceiling: 5_000_000, concurrency: 20 },
  ultimate: { base: 50_000, perUser: 2_000, ceiling: null, concurrency: 25 },
};

export function zohoBudget(edition: ZohoEdition, users: number): ZohoBudget {
  const row = TABLE[edition];
  const credits = row.base + row.perUser * Math.max(0, Math.floor(users));
  return {
    creditsPerDay: row.ceiling === null ? credits : Math.min(credits, row.ceiling),
    windowMs: 24 * 60 * 60 * 1000,
    concurrency: row.concurrency,
    heavyConcurrency: 10,
  };
}

/** The edition of an org's `license_details.paid_type` (Zoho One counts as Enterprise, CRM Plus as Ultimate). */
export function editionOf(paidType: unknown): ZohoEdition {
  const type = typeof paidType === "string" ? paidType.toLowerCase() : "";
  if (/ultimate|plus/.test(type)) return "ultimate";
  if (/enterprise|one/.test(type)) return "enterprise";
  if (/professional/.test(type)) return "professional";
  if (/free/.test(type)) return "free";
  // unknown or Standard/Starter: the smaller paid allowance, so we never plan on credits the org lacks
  return "standard";
}

/** Credits a call costs: reads and metadata 1; insert/update/upsert 1 per 10 records (UNCERTAIN, see README). */
export function creditsFor(records?: number): number {
  return records === undefined ? 1 : Math.max(1, Math.ceil(records / 10));
}

/** The name of the credits limit in the policy: `observe({ window })` matches it. */
export const ZOHO_CREDITS_WINDOW = "credits";
/** Operations Zoho counts as heavy (search): 10 in flight on every edition, on top of the org's cap. */
export const HEAVY_OPERATIONS = new Set(["leads search"]);
/** A concurrency slot lapses after this if its process died (longer than any Zoho call we make). */
const SLOT_LEASE_MS = 2 * 60_000;

/**
 * The org's budget as the shared limiter's policy: credits per rolling 24 h, the org's concurrency, and the heavy
 * APIs' sub-concurrency. `override` (operators' `settings.rateLimit`) replaces credits or concurrency.
 */
export function zohoRatePolicy(edition: ZohoEdition, users: number, override: { creditsPerDay?: number; concurrency?: number } = {}): RatePolicy {
  const budget = zohoBudget(edition, users);
  return {
    limits: [{ name: ZOHO_CREDITS_WINDOW, kind: "rolling", limit: override.creditsPerDay ?? budget.creditsPerDay, windowMs: budget.windowMs }],
    concurrency: { maxConcurrent: override.concurrency ?? budget.concurrency, leaseMs: SLOT_LEASE_MS },
    classOf: (operation) => (HEAVY_OPERATIONS.has(operation) ? "heavy" : undefined),
    classes: { heavy: { concurrency: { name: "heavy concurrency", maxConcurrent: budget.heavyConcurrency, leaseMs: SLOT_LEASE_MS } } },
  };
}

/** `settings.rateLimit` as operators write it: a number (credits per 24 h) or `{ creditsPerDay?, concurrency? }`. */
export function rateLimitOverride(settings: unknown): { creditsPerDay?: number; concurrency?: number } {
  if (typeof settings !== "object" || settings === null) return {};
  const value = (settings as Record<string, unknown>)["rateLimit"];
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return { creditsPerDay: value };
  if (typeof value !== "object" || value === null) return {};
  const override: { creditsPerDay?: number; concurrency?: number } = {};
  for (const key of ["creditsPerDay", "concurrency"] as const) {
    const n = (value as Record<string, unknown>)[key];
    if (typeof n === "number" && Number.isInteger(n) && n > 0) override[key] = n;
  }
  return override;
}
