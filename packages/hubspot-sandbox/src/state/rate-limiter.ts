import type { AuthType, SandboxTier } from "../options.js";

export const TEN_SECONDS_MS = 10_000;
const SEARCH_WINDOW_MS = 1_000;
export const SEARCH_PER_SECOND = 5;

export type PolicyName = "TEN_SECONDLY_ROLLING" | "DAILY" | "SECONDLY";

export interface PortalLimits {
  /** calls per rolling 10 s; null = no limit */
  per10s: number | null;
  /** calls per day (portal's time zone); null = no limit */
  daily: number | null;
  /** HubSpot sends no daily headers for OAuth-authorised requests */
  dailyHeaders: boolean;
}

/** HubSpot's published limits (hubspot-facts.md §6.1): private apps by tier, OAuth apps 110 per 10 s per account. */
export function limitsFor(tier: SandboxTier, authType: AuthType): PortalLimits {
  if (tier === "unlimited") return { per10s: null, daily: null, dailyHeaders: false };
  if (authType === "oauth") return { per10s: 110, daily: null, dailyHeaders: false };
  switch (tier) {
    case "free":
    case "starter":
      return { per10s: 100, daily: 250_000, dailyHeaders: true };
    case "professional":
      return { per10s: 190, daily: 625_000, dailyHeaders: true };
    case "enterprise":
      return { per10s: 190, daily: 1_000_000, dailyHeaders: true };
  }
}

export type Admission =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; policyName: PolicyName; headers: Record<string, string> };

/** The portal's midnight: HubSpot resets the daily cap in the account's time zone (the sandbox's is US/Eastern). */
const dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });

/**
 * One portal's API budget: a rolling 10 s window and a daily cap for ordinary calls, and the separate
 * 5-per-second search limit (search responses carry no rate-limit headers and do not use the 10 s budget).
 */
export class PortalRateLimiter {
  private readonly windowCalls: number[] = [];
  private readonly searchCalls: number[] = [];
  private dayKey = "";
  dailyUsed = 0;
  /** the most calls accepted inside any rolling 10 s window so far */
  maxCallsInAnyWindow = 0;

  constructor(private readonly limits: () => PortalLimits) {}

  admit(kind: "standard" | "search", now: number): Admission {
    this.rollDay(now);
    const limits = this.limits();
    prune(this.windowCalls, now - TEN_SECONDS_MS);
    if (limits.daily !== null && this.dailyUsed >= limits.daily) {
      return { allowed: false, policyName: "DAILY", headers: kind === "search" ? {} : this.headers(limits) };
    }
    if (kind === "search") {
      prune(this.searchCalls, now - SEARCH_WINDOW_MS);
      if (this.searchCalls.length >= SEARCH_PER_SECOND) return { allowed: false, policyName: "SECONDLY", headers: {} };
      this.searchCalls.push(now);
      this.dailyUsed++;
      return { allowed: true, headers: {} };
    }
    if (limits.per10s !== null && this.windowCalls.length >= limits.per10s) {
      return { allowed: false, policyName: "TEN_SECONDLY_ROLLING", headers: this.headers(limits) };
    }
    this.windowCalls.push(now);
    this.dailyUsed++;
    this.maxCallsInAnyWindow = Math.max(this.maxCallsInAnyWindow, this.windowCalls.length);
    return { allowed: true, headers: this.headers(limits) };
  }

  private headers(limits: PortalLimits): Record<string, string> {
    const headers: Record<string, string> = {};
    if (limits.per10s !== null) {
      headers["x-hubspot-ratelimit-interval-milliseconds"] = String(TEN_SECONDS_MS);
      headers["x-hubspot-ratelimit-max"] = String(limits.per10s);
      headers["x-hubspot-ratelimit-remaining"] = String(Math.max(0, limits.per10s - this.windowCalls.length));
    }
    if (limits.daily !== null && limits.dailyHeaders) {
      headers["x-hubspot-ratelimit-daily"] = String(limits.daily);
      headers["x-hubspot-ratelimit-daily-remaining"] = String(Math.max(0, limits.daily - this.dailyUsed));
    }
    return headers;
  }

  private rollDay(now: number): void {
    const key = dayFormat.format(now);
    if (key !== this.dayKey) {
      if (this.dayKey !== "") this.dailyUsed = 0;
      this.dayKey = key;
    }
  }
}

/** Drops timestamps at or before the cutoff; the arrays are in time order. */
function prune(times: number[], cutoff: number): void {
  let drop = 0;
  while (drop < times.length && (times[drop] as number) <= cutoff) drop++;
  if (drop > 0) times.splice(0, drop);
}

export function rateLimitMessage(policyName: PolicyName): string {
  switch (policyName) {
    case "DAILY":
      return "You have reached your daily limit.";
    case "SECONDLY":
      return "You have reached your secondly limit.";
    case "TEN_SECONDLY_ROLLING":
      return "You have reached your ten_secondly_rolling limit.";
  }
}
