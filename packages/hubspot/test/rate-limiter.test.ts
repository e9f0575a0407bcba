import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { budgetFor } from "../src/rate-budget.js";
import { PortalRateLimiter } from "../src/rate-limiter.js";
import { REDIS_URL, testRedis } from "./redis-helpers.js";

const run = promisify(execFile);
const { redis, keyPrefix, cleanup } = testRedis("limiter");
afterAll(cleanup);

/** A clock the test moves by hand. */
function manualClock(start: number) {
  let t = start;
  return { now: () => t, set: (v: number) => void (t = v), advance: (ms: number) => void (t += ms) };
}

/** Largest number of grants inside any window of `windowMs` that starts at a grant. */
function maxInAnyWindow(grants: number[], windowMs: number): number {
  const sorted = [...grants].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + windowMs) j++;
    max = Math.max(max, j - i);
  }
  return max;
}

const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
const child = fileURLToPath(new URL("./fixtures/acquire-until-granted.ts", import.meta.url));

describe("PortalRateLimiter", () => {
  it("grants at most 95% of the 10 s budget to 300 concurrent callers", async () => {
    const limiter = new PortalRateLimiter({ redis, keyPrefix });
    const results = await Promise.all(
      Array.from({ length: 300 }, () => limiter.acquire("burst", { per10s: 100, kind: "standard" })),
    );
    const granted = results.filter((r) => r.ok).length;
    expect(granted).toBe(95);
    for (const r of results) if (!r.ok) expect(r.retryAfterMs).toBeGreaterThan(0), expect(r.retryAfterMs).toBeLessThanOrEqual(10_000);
  });

  it("never exceeds the window budget across two processes with 300 callers", async () => {
    // A 500 ms window (instead of HubSpot's 10 s) keeps the test short; the algorithm is the same.
    const windowMs = 500;
    const per10s = 20; // 19 per window after the 95% margin
    const args = [child, REDIS_URL, keyPrefix, "shared", "150", String(per10s), String(windowMs)];
    const [a, b] = await Promise.all([run(tsx, args), run(tsx, args)]);
    const grants = [...(JSON.parse(a.stdout) as number[]), ...(JSON.parse(b.stdout) as number[])];
    expect(grants).toHaveLength(300);
    // Every caller got through eventually, and no window ever held more than the budget.
    expect(maxInAnyWindow(grants, windowMs)).toBe(19);
  }, 60_000);

  it("grants several requests together or none, and says when all of them fit", async () => {
    const clock = manualClock(1_700_000_000_000);
    const limiter = new PortalRateLimiter({ redis, keyPrefix, now: clock.now, safetyMargin: 1 });
    const budget = { per10s: 10, daily: 12, kind: "standard" as const };
    expect((await limiter.acquire("together", { ...budget, calls: 3 })).ok).toBe(true); // t=0: 3 used
    clock.advance(1_000);
    for (let i = 0; i < 5; i++) expect((await limiter.acquire("together", budget)).ok).toBe(true); // t=1 s: 8 used
    clock.advance(1_000);
    // 3 more do not fit (8 + 3 > 10), and none is taken: the first 3 leave the window at t=10 s, 8 s from now.
    expect(await limiter.acquire("together", { ...budget, calls: 3 })).toEqual({ ok: false, retryAfterMs: 8_000, reason: "window" });
    expect((await limiter.acquire("together", { ...budget, calls: 2 })).ok).toBe(true); // exactly 10
    expect(await limiter.acquire("together", budget)).toMatchObject({ ok: false, reason: "window" });
    clock.advance(8_000); // t=10 s: the first 3 are out of the window
    // The daily cap counts every request: 10 of 12 used, so 3 more would pass it.
    expect(await limiter.acquire("together", { ...budget, calls: 3 })).toMatchObject({ ok: false, reason: "daily" });
    expect((await limiter.acquire("together", { ...budget, calls: 2 })).ok).toBe(true);
    expect(limiter.callsPerWindow(budget)).toBe(10);
    await expect(limiter.acquire("together", { ...budget, calls: 11 })).rejects.toThrow(RangeError);
  });

  it("pause blocks only that portal", async () => {
    const clock = manualClock(1_700_000_000_000);
    const limiter = new PortalRateLimiter({ redis, keyPrefix, now: clock.now });
    const budget = { per10s: 100, kind: "standard" as const };
    await limiter.pause("paused", 5_000);
    expect(await limiter.acquire("paused", budget)).toEqual({ ok: false, retryAfterMs: 5_000, reason: "paused" });
    expect(await limiter.acquire("paused", { ...budget, kind: "search" })).toEqual({ ok: false, retryAfterMs: 5_000, reason: "paused" });
    expect((await limiter.acquire("other", budget)).ok).toBe(true);
    // A shorter pause never shortens a longer one.
    await limiter.pause("paused", 1_000);
    expect(await limiter.acquire("paused", budget)).toEqual({ ok: false, retryAfterMs: 5_000, reason: "paused" });
    clock.advance(5_000);
    expect((await limiter.acquire("paused", budget)).ok).toBe(true);
  });

  it("stops at the daily cap and allows again after the portal's midnight", async () => {
    const clock = manualClock(Date.UTC(2026, 5, 1, 23, 59, 59, 0));
    const limiter = new PortalRateLimiter({ redis, keyPrefix, now: clock.now, safetyMargin: 1 });
    const budget = { per10s: 100, daily: 3, kind: "standard" as const };
    for (let i = 0; i < 3; i++) expect((await limiter.acquire("daily", budget)).ok).toBe(true);
    expect(await limiter.acquire("daily", budget)).toEqual({ ok: false, retryAfterMs: 1_000, reason: "daily" });
    clock.advance(1_000); // 00:00:00 UTC, a new day
    expect((await limiter.acquire("daily", budget)).ok).toBe(true);
  });

  it("resets the daily cap at midnight in the portal's time zone, not UTC", async () => {
    // 23:30 in New York (EDT, UTC-4) is 03:30 UTC the next day.
    const clock = manualClock(Date.UTC(2026, 5, 2, 3, 30, 0, 0));
    const limiter = new PortalRateLimiter({ redis, keyPrefix, now: clock.now, safetyMargin: 1 });
    const budget = { per10s: null, daily: 1, kind: "standard" as const, timeZone: "America/New_York" };
    expect((await limiter.acquire("ny", budget)).ok).toBe(true);
    expect(await limiter.acquire("ny", budget)).toEqual({ ok: false, retryAfterMs: 30 * 60_000, reason: "daily" });
    clock.advance(30 * 60_000);
    expect((await limiter.acquire("ny", budget)).ok).toBe(true);
  });

  it("limits search to 5 per second, separately from the standard budget", async () => {
    const clock = manualClock(1_700_000_100_000);
    const limiter = new PortalRateLimiter({ redis, keyPrefix, now: clock.now });
    const search = { per10s: 100, kind: "search" as const };
    const first = await Promise.all(Array.from({ length: 10 }, () => limiter.acquire("search", search)));
    expect(first.filter((r) => r.ok)).toHaveLength(5);
    expect((await limiter.acquire("search", { ...search, kind: "standard" })).ok).toBe(true);
    clock.advance(1_000);
    expect((await limiter.acquire("search", search)).ok).toBe(false); // the 1.1 s window has not passed
    clock.advance(100);
    const second = await Promise.all(Array.from({ length: 10 }, () => limiter.acquire("search", search)));
    expect(second.filter((r) => r.ok)).toHaveLength(5);
  });

  it("corrects its view from HubSpot's rate-limit headers", async () => {
    const clock = manualClock(1_700_000_200_000);
    const limiter = new PortalRateLimiter({ redis, keyPrefix, now: clock.now, safetyMargin: 1 });
    const budget = { per10s: 10, kind: "standard" as const };
    // HubSpot has seen 8 calls in this window (other tools on the same app): only 2 remain for us.
    await limiter.observe("observed", { "x-hubspot-ratelimit-max": "10", "x-hubspot-ratelimit-remaining": "2" });
    const results = await Promise.all(Array.from({ length: 5 }, () => limiter.acquire("observed", budget)));
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    // Remaining 0 pauses until the interval ends.
    await limiter.observe("zero", {
      "X-HubSpot-RateLimit-Remaining": "0",
      "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    });
    expect(await limiter.acquire("zero", budget)).toEqual({ ok: false, retryAfterMs: 10_000, reason: "paused" });
    // Daily-Remaining 0 pauses until midnight.
    clock.set(Date.UTC(2026, 5, 1, 23, 0, 0, 0));
    await limiter.observe("day", { "x-hubspot-ratelimit-daily": "1000", "x-hubspot-ratelimit-daily-remaining": "0" });
    expect(await limiter.acquire("day", budget)).toEqual({ ok: false, retryAfterMs: 3_600_000, reason: "paused" });
  });
});

describe("budgetFor", () => {
  it("follows HubSpot's current limits", () => {
    expect(budgetFor({ tier: "starter", authType: "private_app" })).toMatchObject({ per10s: 100, daily: 250_000 });
    expect(budgetFor({ tier: "professional", authType: "private_app" })).toMatchObject({ per10s: 190, daily: 625_000 });
    expect(budgetFor({ tier: "enterprise", authType: "private_app" })).toMatchObject({ per10s: 190, daily: 1_000_000 });
    expect(budgetFor({ tier: "enterprise", authType: "private_app", apiLimitIncreases: 1 })).toMatchObject({
      per10s: 250,
      daily: 2_000_000,
    });
    expect(budgetFor({ tier: "professional", authType: "oauth", apiLimitIncreases: 2 })).toMatchObject({ per10s: 110, daily: null });
    expect(budgetFor({ tier: "unlimited", authType: "private_app" })).toEqual({ per10s: null, daily: null, searchPerSecond: null });
    expect(budgetFor({ tier: "free", authType: "private_app", override: { per10s: 40 } })).toMatchObject({ per10s: 40, daily: 250_000 });
  });
});
