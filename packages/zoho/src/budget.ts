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
