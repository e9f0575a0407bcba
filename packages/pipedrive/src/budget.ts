import type { RatePolicy } from "@leadsync/core";

/**
 * Pipedrive's token-based rate limits as core's `RatePolicy` for the shared limiter (providers-facts §4.5).
 *
 * - Daily: one budget per company, shared by every user, token and integration: 30,000 × plan multiplier × seats
 *   (+ purchased top-ups), in tokens, reset at the server's midnight (time zone not named: UTC).
 * - Burst: per token over a rolling 2 s, by plan and auth type, in requests. Search: 10 per 2 s on every plan.
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
/**
 * Slack in time for the 2 s windows: we count a call when we grant it, Pipedrive when it arrives, and with calls in
 * parallel a later grant can arrive sooner than an earlier one. Counting each call 400 ms longer than Pipedrive does
 * absorbs that (measured against the emulator: the count margin alone let 2–4 of 28 calls through into a 429).
 */
export const WINDOW_SLACK_MS = 400;

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
  "users list": 20,
  "lead create": 10,
} as const;
export type PipedriveOperation = keyof typeof OPERATION_COSTS;

/** Operations that also count against the search window. */
export const SEARCH_OPERATIONS: ReadonlySet<string> = new Set<PipedriveOperation>(["persons search", "organizations search"]);

/** Limit names, as `observe({ window })` and refusals name them. */
export const LIMIT_NAMES = { daily: "daily", burst: "burst", search: "search" } as const;

export function isPipedrivePlan(value: unknown): value is PipedrivePlan {
  return typeof value === "string" && (PIPEDRIVE_PLANS as readonly string[]).includes(value);
}

/** The limit policy of one Pipedrive company and token. */
export function pipedriveBudget(plan: PipedrivePlan = "growth", seats = 1, authType: PipedriveAuthType = "api_token", extraDailyTokens = 0): RatePolicy {
  return {
    limits: [
      { name: LIMIT_NAMES.daily, kind: "daily", timeZone: "UTC", counts: "cost", limit: DAILY_BASE_TOKENS * PLAN_MULTIPLIER[plan] * Math.max(1, Math.floor(seats)) + extraDailyTokens },
      { name: LIMIT_NAMES.burst, kind: "rolling", windowMs: BURST_WINDOW_MS + WINDOW_SLACK_MS, counts: "requests", limit: BURST_PER_2S[plan][authType] },
    ],
    classOf: (operation) => (SEARCH_OPERATIONS.has(operation) ? "search" : undefined),
    // search's 10 is too small for a share-based margin (9 of 10 still collided): the slack in time is its margin
    classes: { search: { limits: [{ name: LIMIT_NAMES.search, kind: "rolling", windowMs: BURST_WINDOW_MS + WINDOW_SLACK_MS, counts: "requests", limit: SEARCH_PER_WINDOW, margin: 1 }] } },
  };
}

/**
 * The integration's policy: the plan is its `tier` (set at connect from the body's `plan`, default growth), the
 * seats are the company's active users counted at connect (`state.seats`). Operators override either, and add
 * purchased top-ups, in `settings.rateLimit` `{ plan?, seats?, extraDailyTokens? }`.
 */
export function pipedriveLimitPolicy(integration: { tier: string; authType: "private_app" | "oauth"; settings: unknown; state: Readonly<Record<string, unknown>> }): RatePolicy {
  const override = rateLimitOverride(integration.settings);
  const plan = override.plan ?? (isPipedrivePlan(integration.tier) ? integration.tier : "growth");
  const stateSeats = typeof integration.state["seats"] === "number" ? integration.state["seats"] : 1;
  return pipedriveBudget(plan, override.seats ?? stateSeats, integration.authType === "oauth" ? "oauth" : "api_token", override.extraDailyTokens ?? 0);
}

function rateLimitOverride(settings: unknown): { plan?: PipedrivePlan; seats?: number; extraDailyTokens?: number } {
  const value = settings && typeof settings === "object" ? (settings as Record<string, unknown>)["rateLimit"] : undefined;
  if (!value || typeof value !== "object") return {};
  const { plan, seats, extraDailyTokens } = value as Record<string, unknown>;
  return {
    ...(isPipedrivePlan(plan) && { plan }),
    ...(typeof seats === "number" && seats >= 1 && { seats }),
    ...(typeof extraDailyTokens === "number" && extraDailyTokens >= 0 && { extraDailyTokens }),
  };
}

/** Milliseconds to the next UTC midnight: when a spent daily budget is back. */
export function msUntilUtcMidnight(now = Date.now()): number {
  const date = new Date(now);
  return Math.max(1, Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1) - now);
}
