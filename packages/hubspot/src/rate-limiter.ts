import { randomUUID } from "node:crypto";
import type { RedisClient } from "./redis-script.js";
import { headerValue, localDate, msUntilMidnight } from "./errors.js";
import type { RateBudget } from "./rate-budget.js";
import { RedisScript } from "./redis-script.js";

/**
 * One rate limiter per HubSpot portal, shared by every worker process: its state lives in RedisClient and
 * each decision is one atomic Lua script. Standard calls use a sliding 10 s window (a sorted set of
 * grant times), search calls their own 5/s window, plus a daily counter keyed by the portal's local date.
 * `acquire` never waits: a refusal carries `retryAfterMs` so the caller delays its BullMQ job instead.
 *
 * Clock: Redis's own (TIME inside the script), so every process on every machine orders its grants on
 * one clock. Callers' clocks disagree by a few ms and their scripts arrive out of order, and a grant
 * stamped in the past would be counted against a window another caller already trimmed (we saw 24 grants
 * in a window of 19 that way). Tests may inject a clock; then that clock is used instead.
 */

export type RateLimitKind = "standard" | "search";

/** Why a call was refused: the rolling window is full, the daily cap is reached, or the portal is paused after a 429. */
export type RefusalReason = "window" | "daily" | "paused";

export type AcquireResult = { ok: true; grantedAt: number } | { ok: false; retryAfterMs: number; reason: RefusalReason };

/** The `policy` of a RateLimitedError our limiter raises when the portal's daily cap is used up (HubSpot's own is `DAILY`). */
export const LOCAL_DAILY_POLICY = "local_daily";

const REFUSAL_REASONS: Record<number, RefusalReason> = { 0: "window", 2: "daily", 3: "paused" };

export interface AcquireOptions extends RateBudget {
  kind: RateLimitKind;
  /**
   * Requests taken together, all or none (default 1): work that needs several calls (a batch read in chunks) either
   * gets them all or waits, rather than spending part of the budget on calls whose results it would then drop.
   * More than the window allows is refused with RangeError.
   */
  calls?: number;
  /** The portal's time zone (IANA); its daily cap resets at local midnight. Default UTC. */
  timeZone?: string;
}

export interface PortalRateLimiterOptions {
  redis: RedisClient;
  /** Key prefix; the portal key is wrapped in a hash tag so one portal's keys share a RedisClient Cluster slot. */
  keyPrefix?: string;
  /**
   * Share of HubSpot's budget we use (default 0.95). We count calls when we grant them, HubSpot when they
   * arrive: network jitter and clock skew between machines can push a few extra calls into one of
   * HubSpot's windows, and the daily cap is shared with every other private app of the account.
   * Staying 5% below keeps 429s rare (HubSpot's certification wants errors < 5% of calls).
   */
  safetyMargin?: number;
  /** HubSpot's rolling window (10 s). Configurable only so tests can exercise the window quickly. */
  windowMs?: number;
  /**
   * The search window. 5 per 1.1 s rather than 5 per 1 s: a 5% margin on 5 calls would round to 4 (a 20%
   * cut), so search gets its margin in time instead of in count.
   */
  searchWindowMs?: number;
  /** A clock for tests. Default: Redis's clock (see above). */
  now?: () => number;
}

const DEFAULT_WINDOW_MS = 10_000;
const DEFAULT_SEARCH_WINDOW_MS = 1_100;
const DEFAULT_SAFETY_MARGIN = 0.95;
const DEFAULT_SEARCH_PER_SECOND = 5;
const NO_LIMIT = -1;

// Shared Lua helpers: the clock (the caller's when given, else Redis's), and moving a pause deadline
// forward, never backward.
const LUA_HELPERS = `
local function clock(given)
  local n = tonumber(given)
  if n then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function extend_pause(key, untilMs, now)
  local current = tonumber(redis.call('GET', key) or '0')
  if untilMs > current and untilMs > now then
    redis.call('SET', key, untilMs, 'PX', untilMs - now)
  end
end
`;

// KEYS: pause, window, daily. ARGV: now, windowMs, limit, dailyLimit, msToMidnight, member, calls.
// Grants `calls` requests at once or none. Returns {1, now} when granted, {0 | 2 | 3, retryAfterMs} when refused
// (window full | daily cap | paused).
const ACQUIRE = new RedisScript(`${LUA_HELPERS}
local now = clock(ARGV[1])
local windowMs = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local dailyLimit = tonumber(ARGV[4])
local msToMidnight = tonumber(ARGV[5])
local calls = tonumber(ARGV[7])

-- The daily cap first: when it is the reason (also after a 429 DAILY paused us), the refusal says so.
if dailyLimit >= 0 and tonumber(redis.call('GET', KEYS[3]) or '0') + calls > dailyLimit then
  return {2, msToMidnight}
end

local pausedUntil = tonumber(redis.call('GET', KEYS[1]) or '0')
if pausedUntil > now then return {3, pausedUntil - now} end

if limit >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - windowMs)
  local used = redis.call('ZCARD', KEYS[2])
  if used + calls > limit then
    -- Room for all of them once the (used + calls - limit) oldest grants have left the window.
    local freeing = redis.call('ZRANGE', KEYS[2], used + calls - limit - 1, used + calls - limit - 1, 'WITHSCORES')
    local wait = windowMs
    if freeing[2] then wait = tonumber(freeing[2]) + windowMs - now end
    if wait < 1 then wait = 1 end
    return {0, wait}
  end
  for i = 1, calls do redis.call('ZADD', KEYS[2], now, ARGV[6] .. ':' .. i) end
  redis.call('PEXPIRE', KEYS[2], windowMs)
end

if dailyLimit >= 0 then
  redis.call('INCRBY', KEYS[3], calls)
  -- keep the counter a little past midnight so a late clock still finds it
  redis.call('PEXPIRE', KEYS[3], msToMidnight + 3600000)
end
return {1, now}
`);

// KEYS: pause:standard, pause:search, window, daily.
// ARGV: now, windowMs, usedInWindow, remainingZero, intervalMs, dailyUsed, dailyExhausted, msToMidnight, memberPrefix.
const OBSERVE = new RedisScript(`${LUA_HELPERS}
local now = clock(ARGV[1])
local windowMs = tonumber(ARGV[2])
local used = tonumber(ARGV[3])
local msToMidnight = tonumber(ARGV[8])

if ARGV[4] == '1' then
  extend_pause(KEYS[1], now + tonumber(ARGV[5]), now)
elseif used > 0 then
  -- HubSpot counted calls we did not (other tools on the same app): add placeholders so our view matches.
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - windowMs)
  local missing = used - redis.call('ZCARD', KEYS[3])
  for i = 1, missing do redis.call('ZADD', KEYS[3], now, ARGV[9] .. i) end
  if missing > 0 then redis.call('PEXPIRE', KEYS[3], windowMs) end
end

local dailyUsed = tonumber(ARGV[6])
if dailyUsed >= 0 and dailyUsed > tonumber(redis.call('GET', KEYS[4]) or '0') then
  redis.call('SET', KEYS[4], dailyUsed, 'PX', msToMidnight + 3600000)
end
if ARGV[7] == '1' then
  extend_pause(KEYS[1], now + msToMidnight, now)
  extend_pause(KEYS[2], now + msToMidnight, now)
end
return 1
`);

// KEYS: the pause keys to extend. ARGV: now, durationMs.
const PAUSE = new RedisScript(`${LUA_HELPERS}
local now = clock(ARGV[1])
for _, key in ipairs(KEYS) do extend_pause(key, now + tonumber(ARGV[2]), now) end
return 1
`);

export class PortalRateLimiter {
  private readonly redis: RedisClient;
  private readonly keyPrefix: string;
  private readonly safetyMargin: number;
  private readonly windowMs: number;
  private readonly searchWindowMs: number;
  private readonly clock: (() => number) | undefined;

  constructor(options: PortalRateLimiterOptions) {
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix ?? "leadsync:ratelimit";
    this.safetyMargin = options.safetyMargin ?? DEFAULT_SAFETY_MARGIN;
    if (!(this.safetyMargin > 0 && this.safetyMargin <= 1)) throw new RangeError("safetyMargin must be in (0, 1]");
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.searchWindowMs = options.searchWindowMs ?? DEFAULT_SEARCH_WINDOW_MS;
    this.clock = options.now;
  }

  /** Takes `options.calls` (default one) requests from the portal's budget, or says how long to wait. Never waits itself. */
  async acquire(portalKey: string, options: AcquireOptions): Promise<AcquireResult> {
    const injected = this.clock?.();
    const now = injected ?? Date.now(); // local time only names the day; RedisClient decides the window
    const isSearch = options.kind === "search";
    const limit = this.callsPerWindow(options);
    const dailyLimit = this.withMargin(options.daily ?? null);
    const calls = options.calls ?? 1;
    if (!Number.isInteger(calls) || calls < 1 || (limit !== null && calls > limit)) {
      throw new RangeError(`Cannot take ${calls} requests at once from a window of ${limit}`);
    }
    const [granted, value] = (await ACQUIRE.run(
      this.redis,
      [this.pauseKey(portalKey, options.kind), this.windowKey(portalKey, options.kind), this.dailyKey(portalKey, now, options.timeZone)],
      [
        injected ?? "",
        isSearch ? this.searchWindowMs : this.windowMs,
        limit ?? NO_LIMIT,
        dailyLimit ?? NO_LIMIT,
        msUntilMidnight(now, options.timeZone),
        `${now}:${randomUUID()}`,
        calls,
      ],
    )) as [number, number];
    return granted === 1 ? { ok: true, grantedAt: value } : { ok: false, retryAfterMs: value, reason: REFUSAL_REASONS[granted] ?? "window" };
  }

  /** The most requests of this kind one window grants (after the safety margin); null when unlimited. */
  callsPerWindow(options: Pick<AcquireOptions, "kind" | "per10s" | "searchPerSecond">): number | null {
    if (options.kind === "search") return options.searchPerSecond === undefined ? DEFAULT_SEARCH_PER_SECOND : options.searchPerSecond;
    return this.withMargin(options.per10s);
  }

  /** After a 429: every caller for this portal is refused until `ms` from now. No kind = both kinds. */
  async pause(portalKey: string, ms: number, kind?: RateLimitKind): Promise<void> {
    const kinds: RateLimitKind[] = kind ? [kind] : ["standard", "search"];
    await PAUSE.run(
      this.redis,
      kinds.map((k) => this.pauseKey(portalKey, k)),
      [this.clock?.() ?? "", Math.max(1, Math.ceil(ms))],
    );
  }

  /**
   * Corrects our view from HubSpot's rate-limit headers: calls HubSpot counted that we did not become
   * placeholders in the window, `Remaining: 0` pauses until the interval ends, `Daily-Remaining: 0`
   * until the portal's midnight. Search responses carry no such headers; those are ignored.
   */
  async observe(portalKey: string, headers: Record<string, string>, options: { timeZone?: string } = {}): Promise<void> {
    const num = (name: string) => {
      const v = headerValue(headers, name);
      const n = v === undefined || v.trim() === "" ? Number.NaN : Number(v);
      return Number.isFinite(n) ? n : undefined;
    };
    const max = num("x-hubspot-ratelimit-max");
    const remaining = num("x-hubspot-ratelimit-remaining");
    const interval = num("x-hubspot-ratelimit-interval-milliseconds") ?? this.windowMs;
    const dailyMax = num("x-hubspot-ratelimit-daily");
    const dailyRemaining = num("x-hubspot-ratelimit-daily-remaining");
    if (remaining === undefined && dailyRemaining === undefined) return;

    const injected = this.clock?.();
    const now = injected ?? Date.now();
    const usedInWindow = max !== undefined && remaining !== undefined ? Math.max(0, max - remaining) : 0;
    const dailyUsed = dailyMax !== undefined && dailyRemaining !== undefined ? Math.max(0, dailyMax - dailyRemaining) : NO_LIMIT;
    await OBSERVE.run(
      this.redis,
      [
        this.pauseKey(portalKey, "standard"),
        this.pauseKey(portalKey, "search"),
        this.windowKey(portalKey, "standard"),
        this.dailyKey(portalKey, now, options.timeZone),
      ],
      [
        injected ?? "",
        this.windowMs,
        usedInWindow,
        remaining === 0 ? "1" : "0",
        interval,
        dailyUsed,
        dailyRemaining === 0 ? "1" : "0",
        msUntilMidnight(now, options.timeZone),
        `observed:${now}:${randomUUID()}:`,
      ],
    );
  }

  private withMargin(limit: number | null | undefined): number | null {
    if (limit === null || limit === undefined || !Number.isFinite(limit)) return null;
    return Math.max(1, Math.floor(limit * this.safetyMargin));
  }

  /** The portal's hash tag: its keys share a Redis Cluster slot, and portals spread over the masters. */
  private portalTag(portalKey: string): string {
    // A hash tag in the prefix (`{leadsync}:ratelimit`) would come first and put every portal in one slot.
    return `${this.keyPrefix.replace(/[{}]/g, "")}:{${portalKey}}`;
  }

  private pauseKey(portalKey: string, kind: RateLimitKind): string {
    return `${this.portalTag(portalKey)}:pause:${kind}`;
  }

  private windowKey(portalKey: string, kind: RateLimitKind): string {
    return `${this.portalTag(portalKey)}:window:${kind}`;
  }

  private dailyKey(portalKey: string, now: number, timeZone = "UTC"): string {
    return `${this.portalTag(portalKey)}:daily:${localDate(now, timeZone)}`;
  }
}
