import type { AuthType, SandboxPlan } from "../options.js";

/**
 * Pipedrive's token-based rate limits (providers-facts §4.5, the newer page):
 * - a daily budget per company: 30,000 × plan multiplier × seats, shared by every token; reset at midnight of the
 *   server's time zone (not named by Pipedrive: the sandbox uses UTC);
 * - a burst limit per token over a rolling 2 s, by plan and auth type; search 10 per 2 s on every plan.
 */
export const DAILY_BASE_TOKENS = 30_000;
export const PLAN_MULTIPLIER: Record<SandboxPlan, number> = { lite: 1, growth: 2, premium: 5, ultimate: 7 };
export const BURST: Record<SandboxPlan, Record<AuthType, number>> = {
  lite: { api_token: 20, oauth: 80 },
  growth: { api_token: 40, oauth: 160 },
  premium: { api_token: 100, oauth: 400 },
  ultimate: { api_token: 120, oauth: 480 },
};
export const BURST_WINDOW_MS = 2_000;
export const SEARCH_PER_WINDOW = 10;
/** `x-daily-requests-left`: POST/PUT/PATCH requests left for the UTC day per api token (the older per-token cap). */
export const DAILY_WRITE_REQUESTS = 10_000;

/**
 * Token cost per endpoint. Pipedrive publishes sample costs (get one 2, list 20, update one 10, delete one 6,
 * search 40) and says v2 costs "about half" of v1 without a table: the sandbox charges the sample costs to v1 and
 * v2 alike (UNCERTAIN; an integration that budgets with them never overspends). A create costs what an update does.
 */
export function tokenCost(method: string, route: string): number {
  if (route.endsWith("/search")) return 40;
  const single = /:id$/.test(route);
  switch (method) {
    case "GET":
      return single || route.endsWith("/users/me") ? 2 : 20;
    case "POST":
    case "PUT":
    case "PATCH":
      return 10;
    case "DELETE":
      return single ? 6 : 10;
    default:
      return 2;
  }
}

export type Admission =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; reason: "burst" | "search" | "daily"; headers: Record<string, string> };

class RollingWindow {
  private readonly times: number[] = [];
  count(now: number): number {
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] as number) <= now - BURST_WINDOW_MS) drop++;
    if (drop > 0) this.times.splice(0, drop);
    return this.times.length;
  }
  add(now: number): void {
    this.times.push(now);
  }
  /** seconds until the oldest call leaves the window */
  resetSeconds(now: number): number {
    const oldest = this.times[0];
    return oldest === undefined ? 0 : Math.max(0, Math.ceil((oldest + BURST_WINDOW_MS - now) / 1000));
  }
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** One company's budget and its tokens' burst windows. */
export class CompanyRateLimits {
  dailyUsed = 0;
  /** purchased top-ups */
  extraDailyTokens = 0;
  /** most calls any one token got accepted inside a rolling 2 s */
  maxBurstInAnyWindow = 0;
  private dayKey = "";
  private readonly burst = new Map<string, RollingWindow>();
  private readonly search = new Map<string, RollingWindow>();
  private readonly writes = new Map<string, { day: string; count: number }>();

  constructor(private readonly plan: () => { plan: SandboxPlan; seats: number }) {}

  dailyLimit(): number {
    const { plan, seats } = this.plan();
    return DAILY_BASE_TOKENS * PLAN_MULTIPLIER[plan] * seats + this.extraDailyTokens;
  }

  admit(input: { token: string; authType: AuthType; cost: number; isSearch: boolean; isWrite: boolean; now: number }): Admission {
    const { token, authType, cost, now } = input;
    this.rollDay(now);
    const limit = BURST[this.plan().plan][authType];
    const window = windowOf(this.burst, token);
    const used = window.count(now);
    const headers: Record<string, string> = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - used)),
      "x-ratelimit-reset": String(window.resetSeconds(now)),
    };
    if (authType === "api_token") headers["x-daily-requests-left"] = String(this.writesLeft(token, now));
    if (this.dailyUsed + cost > this.dailyLimit()) return { allowed: false, reason: "daily", headers };
    if (used >= limit) return { allowed: false, reason: "burst", headers: { ...headers, "x-ratelimit-remaining": "0" } };
    if (input.isSearch) {
      const searchWindow = windowOf(this.search, token);
      if (searchWindow.count(now) >= SEARCH_PER_WINDOW) {
        return {
          allowed: false,
          reason: "search",
          headers: { "x-ratelimit-limit": String(SEARCH_PER_WINDOW), "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(searchWindow.resetSeconds(now)) },
        };
      }
      searchWindow.add(now);
    }
    window.add(now);
    this.dailyUsed += cost;
    this.maxBurstInAnyWindow = Math.max(this.maxBurstInAnyWindow, used + 1);
    if (input.isWrite) this.countWrite(token, now);
    headers["x-ratelimit-remaining"] = String(Math.max(0, limit - used - 1));
    headers["x-ratelimit-reset"] = String(window.resetSeconds(now));
    if (authType === "api_token") headers["x-daily-requests-left"] = String(this.writesLeft(token, now));
    return { allowed: true, headers };
  }

  private writesLeft(token: string, now: number): number {
    const entry = this.writes.get(token);
    return entry && entry.day === utcDay(now) ? Math.max(0, DAILY_WRITE_REQUESTS - entry.count) : DAILY_WRITE_REQUESTS;
  }

  private countWrite(token: string, now: number): void {
    const day = utcDay(now);
    const entry = this.writes.get(token);
    if (entry && entry.day === day) entry.count++;
    else this.writes.set(token, { day, count: 1 });
  }

  private rollDay(now: number): void {
    const key = utcDay(now);
    if (key !== this.dayKey) {
      if (this.dayKey !== "") this.dailyUsed = 0;
      this.dayKey = key;
    }
  }
}

function windowOf(map: Map<string, RollingWindow>, token: string): RollingWindow {
  let window = map.get(token);
  if (!window) {
    window = new RollingWindow();
    map.set(token, window);
  }
  return window;
}
