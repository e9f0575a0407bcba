/**
 * Pipedrive's token-based rate limits as limit-policy data for the shared limiter (providers-facts §4.5).
 *
 * - Daily: one budget per company, shared by every user, token and integration: 30,000 × plan multiplier × seats
 *   (+ purchased top-ups), reset at the server's midnight (time zone not named: treat it as UTC).
 * - Burst: per token over a rolling 2 s, by plan and auth type. Search: 10 per 2 s on every plan.
 * - Costs are tokens per call. Pipedrive publishes sample costs (get one 2, list 20, update one 10, delete one 6,
 *   search 40) and says v2 costs "about half" without a table; we charge the sample costs to v1 and v2 alike, so the
 *   limiter errs on the safe side. A create is charged like an update.
 */

export const PIPEDRIVE_PLANS = ["lite", "growth", "premium", "ultimate"] as const;
export type PipedrivePlan = (typeof PIPEDRIVE_PLANS)[number];
export type PipedriveAuthType = "api_token" | "oauth";

const DAILY_BASE_TOKENS = 30_000;
const PLAN_MULTIPLIER: Record<PipedrivePlan, number> = { lite: 1, growth: 2, premium: 5, ultimate: 7 };
const BURST_PER_2S: Record<PipedrivePlan, Record<PipedriveAuthType, number>> = {
  lite: { api_token: 20, oauth: 80 },
  growth: { api_token: 40, oauth: 160 },
  premium: { api_token: 100, oauth: 400 },
  ultimate: { api_token: 120, oauth: 480 },
};
export const BURST_WINDOW_MS = 2_000;
export const SEARCH_PER_WINDOW = 10;

/** The operations this package acquires from the limiter, with their token cost. */
export const OPERATION_COSTS = {
  "persons get": 2,
  "persons list": 20,
  "persons search": 40,
  "person create": 10,
  "person update": 10,
  "person delete": 6,
  "organizations list": 20,
  "organizations search": 40,
  "organization create": 10,
  "personFields list": 20,
  "personField create": 10,
  "webhooks list": 20,
  "webhook create": 10,
  "webhook delete": 6,
  "users me": 2,
  "lead create": 10,
} as const;
export type PipedriveOperation = keyof typeof OPERATION_COSTS;

/** Operations that count against the separate search window as well as the burst. */
export const SEARCH_OPERATIONS: ReadonlySet<PipedriveOperation> = new Set(["persons search", "organizations search"]);

export interface PipedriveLimitPolicy {
  /** key scope of each window: the daily budget is per company, the burst and search windows per token */
  windows: {
    daily: { scope: "company"; units: "tokens"; limit: number; resetAt: "utc-midnight" };
    burst: { scope: "token"; units: "calls"; limit: number; windowMs: number; rolling: true };
    search: { scope: "token"; units: "calls"; limit: number; windowMs: number; rolling: true; operations: PipedriveOperation[] };
  };
  /** token cost per operation name passed to `acquire` */
  costs: Readonly<Record<PipedriveOperation, number>>;
}

/** The limit policy of one Pipedrive company (plan and seats from the integration's settings; defaults: growth, 1 seat). */
export function pipedriveBudget(plan: PipedrivePlan = "growth", seats = 1, authType: PipedriveAuthType = "api_token", extraDailyTokens = 0): PipedriveLimitPolicy {
  return {
    windows: {
      daily: { scope: "company", units: "tokens", limit: DAILY_BASE_TOKENS * PLAN_MULTIPLIER[plan] * Math.max(1, seats) + extraDailyTokens, resetAt: "utc-midnight" },
      burst: { scope: "token", units: "calls", limit: BURST_PER_2S[plan][authType], windowMs: BURST_WINDOW_MS, rolling: true },
      search: { scope: "token", units: "calls", limit: SEARCH_PER_WINDOW, windowMs: BURST_WINDOW_MS, rolling: true, operations: [...SEARCH_OPERATIONS] },
    },
    costs: OPERATION_COSTS,
  };
}

/** Milliseconds to the next UTC midnight: when a spent daily budget is back. */
export function msUntilUtcMidnight(now = Date.now()): number {
  const date = new Date(now);
  return Math.max(1, Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1) - now);
}
