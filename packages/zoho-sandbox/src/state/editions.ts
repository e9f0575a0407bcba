/** Zoho CRM editions and their API allowances (providers-facts §3.5). */
export const EDITIONS = ["free", "standard", "professional", "enterprise", "ultimate"] as const;
export type Edition = (typeof EDITIONS)[number];

interface EditionLimits {
  base: number;
  perUser: number;
  /** null: no ceiling */
  ceiling: number | null;
  concurrency: number;
}

const LIMITS: Readonly<Record<Edition, EditionLimits>> = {
  free: { base: 5_000, perUser: 0, ceiling: 5_000, concurrency: 5 },
  standard: { base: 50_000, perUser: 250, ceiling: 100_000, concurrency: 10 },
  professional: { base: 50_000, perUser: 500, ceiling: 3_000_000, concurrency: 15 },
  enterprise: { base: 50_000, perUser: 1_000, ceiling: 5_000_000, concurrency: 20 },
  ultimate: { base: 50_000, perUser: 2_000, ceiling: null, concurrency: 25 },
};

/** Credits per rolling 24 h for an org of this edition with `users` paid users. */
export function creditsPerDay(edition: Edition, users: number): number {
  const limits = LIMITS[edition];
  const credits = limits.base + limits.perUser * Math.max(0, users);
  return limits.ceiling === null ? credits : Math.min(credits, limits.ceiling);
}

/** Calls one org may have in flight at once (per app). */
export function concurrencyOf(edition: Edition): number {
  return LIMITS[edition].concurrency;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** A rolling 24-hour credit window: spends expire one day after they were made. */
export class CreditWindow {
  private spends: { at: number; credits: number }[] = [];
  /** Credits set by the admin route on top of real spends (e.g. "the org already used 90 %"). */
  private preset = 0;

  used(now: number): number {
    this.spends = this.spends.filter((s) => s.at > now - DAY_MS);
    return this.preset + this.spends.reduce((sum, s) => sum + s.credits, 0);
  }

  spend(credits: number, now: number): void {
    this.spends.push({ at: now, credits });
  }

  setUsed(credits: number): void {
    this.spends = [];
    this.preset = credits;
  }
}
