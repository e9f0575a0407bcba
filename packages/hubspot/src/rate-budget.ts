/**
 * HubSpot's published API limits (hubspot-facts.md §6.1; the setup guide's 100/150/200 are out of date).
 * Limits are per portal; `null` means HubSpot enforces none we know of.
 */

export type HubSpotTier = "free" | "starter" | "professional" | "enterprise" | "unlimited";
export type HubSpotAuthType = "private_app" | "oauth";

export interface RateBudget {
  /** Requests per rolling 10 s window; null = no limit. */
  per10s: number | null;
  /** Requests per day (resets at the portal's midnight); null = no daily cap. */
  daily?: number | null;
  /** CRM search requests per second (HubSpot: 5 per account, separate from the 10 s budget). */
  searchPerSecond?: number | null;
}

export interface BudgetForOptions {
  tier: HubSpotTier;
  authType: HubSpotAuthType;
  /** Purchased "API Limit Increase" add-ons (0–2): 250 / 10 s (does not stack) and +1,000,000 per day each. */
  apiLimitIncreases?: number;
  /** Per-integration overrides (e.g. a portal with a negotiated limit). */
  override?: Partial<RateBudget>;
}

export const HUBSPOT_SEARCH_PER_SECOND = 5;

const PRIVATE_APP_PER_10S: Record<Exclude<HubSpotTier, "unlimited">, number> = {
  free: 100,
  starter: 100,
  professional: 190,
  enterprise: 190,
};
const PRIVATE_APP_DAILY: Record<Exclude<HubSpotTier, "unlimited">, number> = {
  free: 250_000,
  starter: 250_000,
  professional: 625_000, // the 2024 changelog said 650k; the usage page says 625k
  enterprise: 1_000_000,
};
const ADD_ON_PER_10S = 250;
const ADD_ON_DAILY_INCREMENT = 1_000_000;
/** Public OAuth apps: 110 per 10 s per installing account; HubSpot states no daily cap for them. */
const OAUTH_PER_10S = 110;

/** The budget HubSpot grants this kind of integration. `unlimited` is the sandbox tier used by benchmarks. */
export function budgetFor({ tier, authType, apiLimitIncreases = 0, override }: BudgetForOptions): RateBudget {
  let base: RateBudget;
  if (tier === "unlimited") {
    base = { per10s: null, daily: null, searchPerSecond: null };
  } else if (authType === "oauth") {
    // The add-on does not raise OAuth app limits.
    base = { per10s: OAUTH_PER_10S, daily: null, searchPerSecond: HUBSPOT_SEARCH_PER_SECOND };
  } else {
    const increases = Math.max(0, Math.min(2, Math.trunc(apiLimitIncreases)));
    base = {
      per10s: increases > 0 ? ADD_ON_PER_10S : PRIVATE_APP_PER_10S[tier],
      daily: PRIVATE_APP_DAILY[tier] + increases * ADD_ON_DAILY_INCREMENT,
      searchPerSecond: HUBSPOT_SEARCH_PER_SECOND,
    };
  }
  return { ...base, ...override };
}
