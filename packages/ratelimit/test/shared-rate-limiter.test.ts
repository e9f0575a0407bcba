import { CrmRateLimitedError, isCrmRateLimited } from "@leadsync/core";
import { afterAll, describe, expect, it } from "vitest";
import type { RatePolicy } from "../src/index.js";
import { SharedRateLimiter } from "../src/index.js";
import { manualClock, testRedis } from "./redis-helpers.js";

const { redis, keyPrefix, cleanup } = testRedis();
afterAll(cleanup);

// A multiple of every resolution used below, so bucket ends fall on the test's own instants.
const T0 = 1_700_000_000_000;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** The error `acquire` threw (the test fails if it did not throw one). */
async function refusal(promise: Promise<void>): Promise<CrmRateLimitedError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isCrmRateLimited(error)) throw new Error(`expected a CrmRateLimitedError, got ${String(error)}`);
  return error;
}

function limiterAt(start: number, margin = 1) {
  const clock = manualClock(start);
  return { clock, limiter: new SharedRateLimiter({ redis, keyPrefix, margin, now: clock.now }) };
}

let accounts = 0;
/** A fresh account id per test: tests share the prefix, never an account. */
const newAccount = () => `acct-${++accounts}`;

describe("rolling windows", () => {
  it("refuses the call past the limit and says exactly when the oldest grants leave the window", async () => {
    const { clock, limiter } = limiterAt(T0);
    const account = limiter.forAccount("pipedrive", newAccount(), {
      limits: [{ name: "burst", kind: "rolling", limit: 10, windowMs: 2_000 }],
    });
    for (let i = 0; i < 4; i++) await account.acquire("persons.get");
    clock.advance(500);
    for (let i = 0; i < 6; i++) await account.acquire("persons.get");
    clock.advance(300); // t = 800 ms: 10 of 10 used; the first 4 leave at t = 2000
    const error = await refusal(account.acquire("persons.get"));
    expect(error).toBeInstanceOf(CrmRateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: 1_200, policy: "burst", daily: false });
    clock.set(T0 + 1_999);
    expect((await refusal(account.acquire("persons.get"))).retryAfterMs).toBe(1);
    clock.set(T0 + 2_000);
    for (let i = 0; i < 4; i++) await account.acquire("persons.get");
    // The next room is when the 6 from t = 500 leave.
    expect((await refusal(account.acquire("persons.get"))).retryAfterMs).toBe(500);
  });

  it("takes weighted costs, and a refusal waits for enough units, not for the first to leave", async () => {
    const { clock, limiter } = limiterAt(T0);
    const account = limiter.forAccount("zoho", newAccount(), {
      limits: [{ name: "credits", kind: "rolling", limit: 100, windowMs: 10_000 }],
    });
    await account.acquire("leads.insert", 30);
    clock.advance(1_000);
    await account.acquire("leads.insert", 50);
    clock.advance(1_000);
    await account.acquire("leads.convert", 15); // 95 of 100 used at t = 2 s
    clock.advance(1_000);
    // 40 more need 35 freed: the 30 from t = 0 are not enough, the 50 from t = 1 s are (they leave at t = 11 s).
    expect(await refusal(account.acquire("leads.insert", 40))).toMatchObject({ retryAfterMs: 8_000, policy: "credits" });
    await account.acquire("leads.get", 5); // exactly 100
    expect((await account.usage()).limits[0]).toMatchObject({ used: 100, remaining: 0, allowed: 100, resetInMs: 7_000 });
    await expect(account.acquire("bulk.init", 101)).rejects.toThrow(RangeError); // can never fit
    await expect(account.acquire("leads.get", 1.5)).rejects.toThrow(RangeError);
  });

  it("keeps 5% below the limit by default, under 300 concurrent callers", async () => {
    const limiter = new SharedRateLimiter({ redis, keyPrefix });
    const account = limiter.forAccount("hubspot", newAccount(), {
      limits: [{ name: "TEN_SECONDLY_ROLLING", kind: "rolling", limit: 100, windowMs: 10_000 }],
    });
    const outcomes = await Promise.all(Array.from({ length: 300 }, () => account.tryAcquire("contacts.read")));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(95);
    for (const o of outcomes) if (!o.ok) expect(o.retryAfterMs).toBeGreaterThan(0), expect(o.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect((await account.usage()).limits[0]).toMatchObject({ limit: 100, allowed: 95, used: 95 });
  });

  it("counts a rolling 24 h window in coarse buckets, so a busy day holds a bounded number of entries", async () => {
    const { clock, limiter } = limiterAt(T0);
    const accountId = newAccount();
    const account = limiter.forAccount("salesforce", accountId, {
      limits: [{ name: "DailyApiRequests", kind: "rolling", limit: 100_000, windowMs: DAY }],
    });
    for (let i = 0; i < 200; i++) {
      await account.acquire("composite.upsert");
      clock.advance(1_000);
    }
    const [times] = await redis.keys(`{${keyPrefix.replace(/[{}]/g, "")}:salesforce:${accountId}}:*:times`);
    // 200 grants over 200 s land in ceil(200 s / 43.2 s) = 5 buckets of 43.2 s.
    expect(await redis.zcard(times ?? "")).toBeLessThanOrEqual(6);
    expect((await account.usage()).limits[0]).toMatchObject({ used: 200 });
  });
});

describe("several limits", () => {
  const pipedrive: RatePolicy = {
    limits: [
      { name: "burst", kind: "rolling", limit: 10, windowMs: 2_000, counts: "requests" },
      { name: "daily tokens", kind: "daily", limit: 100, timeZone: "UTC" },
    ],
    classOf: (operation) => (operation.startsWith("search") ? "search" : undefined),
    classes: { search: { limits: [{ name: "search", kind: "rolling", limit: 3, windowMs: 2_000, counts: "requests" }] } },
  };

  it("takes from every limit or from none", async () => {
    const { limiter } = limiterAt(Date.UTC(2026, 5, 1, 23, 0, 0));
    const account = limiter.forAccount("pipedrive", newAccount(), pipedrive);
    await account.acquire("persons.update", 40);
    await account.acquire("persons.update", 40); // burst 2 of 10 requests, 80 of 100 tokens
    // The daily budget refuses: the burst window takes nothing either.
    expect(await refusal(account.acquire("persons.update", 40))).toMatchObject({ policy: "daily tokens", daily: true, retryAfterMs: HOUR });
    expect((await account.usage()).limits.map((l) => l.used)).toEqual([2, 80, 0]);
    for (let i = 0; i < 8; i++) await account.acquire("persons.get", 1); // burst full, 88 tokens
    // Now the burst refuses, and the daily budget keeps its 12 tokens.
    expect(await refusal(account.acquire("persons.get", 1))).toMatchObject({ policy: "burst", daily: false });
    expect((await account.usage()).limits.map((l) => l.used)).toEqual([10, 88, 0]);
  });

  it("names the limit that frees up last when several refuse", async () => {
    const { limiter } = limiterAt(Date.UTC(2026, 5, 1, 22, 0, 0));
    const account = limiter.forAccount("pipedrive", newAccount(), pipedrive);
    for (let i = 0; i < 10; i++) await account.acquire("persons.get", 10); // burst full, daily spent
    expect(await refusal(account.acquire("persons.get", 1))).toMatchObject({ policy: "daily tokens", retryAfterMs: 2 * HOUR });
  });

  it("applies an operation class's limits on top of the account's", async () => {
    const { limiter } = limiterAt(T0);
    const account = limiter.forAccount("pipedrive", newAccount(), pipedrive);
    for (let i = 0; i < 3; i++) await account.acquire("search.persons", 4);
    expect(await refusal(account.acquire("search.persons", 4))).toMatchObject({ policy: "search", retryAfterMs: 2_000 });
    await account.acquire("persons.get", 2); // other operations still pass
    const usage = await account.usage();
    expect(usage.limits.map((l) => [l.name, l.className, l.used])).toEqual([
      ["burst", undefined, 4],
      ["daily tokens", undefined, 14],
      ["search", "search", 3],
    ]);
  });
});

describe("concurrency cap", () => {
  const zoho: RatePolicy = {
    limits: [{ name: "credits", kind: "rolling", limit: 10, windowMs: DAY }],
    concurrency: { maxConcurrent: 2, leaseMs: 30_000 },
  };

  it("holds at most maxConcurrent calls in flight; release hands a slot back", async () => {
    const { limiter } = limiterAt(T0);
    const account = limiter.forAccount("zoho", newAccount(), zoho);
    await account.acquire("leads.upsert");
    await account.acquire("leads.get");
    expect(await refusal(account.acquire("leads.get"))).toMatchObject({ policy: "concurrency", daily: false, retryAfterMs: 1_000 });
    expect((await account.usage()).concurrency).toEqual([{ name: "concurrency", className: undefined, inFlight: 2, maxConcurrent: 2 }]);
    expect((await account.usage()).limits[0]?.used).toBe(2); // the refused call took no credit
    await account.release("leads.upsert");
    await account.release("leads.upsert"); // nothing more held for that operation: no effect
    await account.acquire("leads.get");
    expect((await account.usage()).concurrency[0]?.inFlight).toBe(2);
  });

  it("lets a slot lapse after leaseMs when its process died without releasing it", async () => {
    const { clock, limiter } = limiterAt(T0);
    const accountId = newAccount();
    const crashed = limiter.forAccount("zoho", accountId, zoho);
    await crashed.acquire("leads.upsert");
    clock.advance(10_000);
    await crashed.acquire("leads.upsert");
    const survivor = limiter.forAccount("zoho", accountId, zoho); // another process: it cannot release those
    await survivor.release("leads.upsert");
    clock.advance(19_800); // the first lease lapses in 200 ms: the refusal says so
    expect(await refusal(survivor.acquire("leads.get"))).toMatchObject({ policy: "concurrency", retryAfterMs: 200 });
    clock.advance(200);
    await survivor.acquire("leads.get");
    expect((await survivor.usage()).concurrency[0]?.inFlight).toBe(2);
  });

  it("takes no slot when a limit refuses", async () => {
    const { limiter } = limiterAt(T0);
    const account = limiter.forAccount("zoho", newAccount(), zoho);
    await account.acquire("leads.upsert", 10);
    expect(await refusal(account.acquire("leads.get"))).toMatchObject({ policy: "credits", daily: true });
    expect((await account.usage()).concurrency[0]?.inFlight).toBe(1);
  });
});

describe("pause", () => {
  const policy: RatePolicy = { limits: [{ name: "burst", kind: "rolling", limit: 100, windowMs: 2_000 }] };

  it("stops every caller of that account until the pause ends, and a shorter pause never shortens it", async () => {
    const { clock, limiter } = limiterAt(T0);
    const accountId = newAccount();
    const one = limiter.forAccount("pipedrive", accountId, policy);
    const other = limiter.forAccount("pipedrive", accountId, policy); // as another process would
    await one.pause(5_000, "429 Too Many Requests");
    expect(await refusal(other.acquire("persons.get"))).toMatchObject({ retryAfterMs: 5_000, policy: "429 Too Many Requests", daily: false });
    await limiter.forAccount("pipedrive", newAccount(), policy).acquire("persons.get"); // other accounts are not paused
    await other.pause(1_000, "shorter");
    expect(await refusal(one.acquire("persons.get"))).toMatchObject({ retryAfterMs: 5_000, policy: "429 Too Many Requests" });
    expect((await one.usage()).pausedForMs).toBe(5_000);
    clock.advance(5_000);
    await one.acquire("persons.get");
    expect((await one.usage()).pauseReason).toBeUndefined();
  });

  it("reports a pause of an hour or more as the daily allowance", async () => {
    const { limiter } = limiterAt(T0);
    const account = limiter.forAccount("pipedrive", newAccount(), policy);
    await account.pause(3 * HOUR, "daily budget spent (429)");
    expect(await refusal(account.acquire("persons.get"))).toMatchObject({ retryAfterMs: 3 * HOUR, daily: true });
  });
});

describe("daily limits", () => {
  it("resets at midnight in the limit's time zone, not UTC", async () => {
    // 23:30 in New York (EDT, UTC-4) is 03:30 UTC the next day.
    const { clock, limiter } = limiterAt(Date.UTC(2026, 5, 2, 3, 30, 0));
    const account = limiter.forAccount("pipedrive", newAccount(), {
      limits: [{ name: "daily tokens", kind: "daily", limit: 3, timeZone: "America/New_York" }],
    });
    for (let i = 0; i < 3; i++) await account.acquire("persons.get");
    expect(await refusal(account.acquire("persons.get"))).toMatchObject({ retryAfterMs: 30 * 60_000, daily: true });
    clock.advance(30 * 60_000 - 1);
    expect((await refusal(account.acquire("persons.get"))).retryAfterMs).toBe(1);
    clock.advance(1); // midnight in New York, 04:00 UTC
    for (let i = 0; i < 3; i++) await account.acquire("persons.get");
    expect((await account.usage()).limits[0]).toMatchObject({ used: 3, resetInMs: DAY });
  });

  it("knows the 23 h and 25 h days of a DST change", async () => {
    const { msUntilLocalMidnight } = await import("../src/time-zone.js");
    // 2026-03-08 00:30 EST → next midnight is EDT: 22.5 h. 2026-11-01 00:30 EDT → next midnight is EST: 24.5 h.
    expect(msUntilLocalMidnight(Date.UTC(2026, 2, 8, 5, 30), "America/New_York")).toBe(22.5 * HOUR);
    expect(msUntilLocalMidnight(Date.UTC(2026, 10, 1, 4, 30), "America/New_York")).toBe(24.5 * HOUR);
    expect(msUntilLocalMidnight(Date.UTC(2026, 5, 1, 12, 0), "Asia/Kolkata")).toBe(6.5 * HOUR); // 17:30 IST
  });
});

describe("observe", () => {
  it("adds the calls the CRM counted and we did not (Salesforce api-usage=N/M)", async () => {
    const { limiter } = limiterAt(T0);
    const account = limiter.forAccount("salesforce", newAccount(), {
      limits: [{ name: "DailyApiRequests", kind: "rolling", limit: 1_000, windowMs: DAY }],
    });
    await account.acquire("query");
    await account.observe({ window: "DailyApiRequests", used: 990, limit: 1_000 });
    for (let i = 0; i < 10; i++) await account.acquire("composite.upsert");
    expect(await refusal(account.acquire("composite.upsert"))).toMatchObject({ policy: "DailyApiRequests", daily: true });
    // Never looser: fewer used, or a higher limit than configured, change nothing.
    await account.observe({ window: "DailyApiRequests", used: 5, limit: 50_000 });
    expect((await account.usage()).limits[0]).toMatchObject({ used: 1_000, allowed: 1_000 });
  });

  it("keeps no more units than the CRM says remain (Zoho X-API-CREDITS-REMAINING), margin included", async () => {
    const limiter = new SharedRateLimiter({ redis, keyPrefix, now: () => T0 }); // default 95% margin
    const account = limiter.forAccount("zoho", newAccount(), {
      limits: [{ name: "credits", kind: "rolling", limit: 1_000, windowMs: DAY }],
    });
    await account.observe({ window: "credits", remaining: 100 });
    expect((await account.usage()).limits[0]).toMatchObject({ allowed: 950, used: 850, remaining: 100 });
    await account.observe({ window: "credits", remaining: 600 }); // more than we think is left: no change
    expect((await account.usage()).limits[0]).toMatchObject({ used: 850 });
  });

  it("stamps the CRM's count so it leaves our window when the CRM's resets (Pipedrive x-ratelimit-reset)", async () => {
    const { clock, limiter } = limiterAt(T0);
    const account = limiter.forAccount("pipedrive", newAccount(), {
      limits: [{ name: "burst", kind: "rolling", limit: 80, windowMs: 2_000, counts: "requests" }],
    });
    await account.observe({ window: "burst", remaining: 0, limit: 80, resetInMs: 1_000 });
    expect(await refusal(account.acquire("persons.get"))).toMatchObject({ policy: "burst", retryAfterMs: 1_000 });
    clock.advance(1_000);
    await account.acquire("persons.get");
  });

  it("corrects a daily budget and a class's limit, and ignores windows the policy does not have", async () => {
    const { limiter } = limiterAt(Date.UTC(2026, 5, 1, 12, 0, 0));
    const account = limiter.forAccount("pipedrive", newAccount(), {
      limits: [{ name: "daily tokens", kind: "daily", limit: 1_000 }],
      classOf: () => "search",
      classes: { search: { limits: [{ name: "search", kind: "rolling", limit: 10, windowMs: 2_000 }] } },
    });
    await account.observe({ window: "daily tokens", used: 400 });
    await account.observe({ window: "search", used: 9, limit: 10 });
    await account.observe({ window: "x-daily-requests-left", remaining: 0 });
    await account.observe({ window: "daily tokens" }); // nothing to say
    expect((await account.usage()).limits.map((l) => l.used)).toEqual([400, 9]);
    await account.acquire("search.persons");
    expect(await refusal(account.acquire("search.persons"))).toMatchObject({ policy: "search" });
  });
});

describe("keys", () => {
  it("share one hash tag per account and all expire", async () => {
    const { limiter } = limiterAt(Date.UTC(2026, 5, 1, 12, 0, 0));
    const accountId = newAccount();
    const account = limiter.forAccount("zoho", accountId, {
      limits: [
        { name: "credits", kind: "rolling", limit: 100, windowMs: DAY },
        { name: "daily", kind: "daily", limit: 100, timeZone: "Europe/Berlin" },
      ],
      concurrency: { maxConcurrent: 5, leaseMs: 60_000 },
    });
    await account.acquire("leads.get", 3);
    await account.pause(1_000, "test");
    const tag = `{${keyPrefix.replace(/[{}]/g, "")}:zoho:${accountId}}`;
    const keys = await redis.keys(`${tag}:*`);
    expect(keys.sort()).toEqual(
      [`${tag}:pause`, `${tag}:limit:credits:times`, `${tag}:limit:credits:units`, `${tag}:limit:daily:2026-06-01`, `${tag}:lease:concurrency`].sort(),
    );
    for (const key of keys) expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it("spread accounts over the cluster even under a hash-tagged prefix", async () => {
    const { accountTag } = await import("../src/keys.js");
    expect(accountTag("{leadsync}:ratelimit", "salesforce", "00D5g000004")).toBe("{leadsync:ratelimit:salesforce:00D5g000004}");
    // Braces in an id cannot end the tag early.
    expect(accountTag("p", "zoho", "a}b{c")).toBe("{p:zoho:a%7Db%7Bc}");
  });

  it("refuses a policy it could not enforce", () => {
    const limiter = new SharedRateLimiter({ redis, keyPrefix });
    const bad: RatePolicy[] = [
      { limits: [{ name: "a", kind: "rolling", limit: 0, windowMs: 1_000 }] },
      { limits: [{ name: "a", kind: "rolling", limit: 10, windowMs: 0 }] },
      { limits: [{ name: "a", kind: "daily", limit: 10, timeZone: "Mars/Olympus" }] },
      { limits: [{ name: "a", kind: "daily", limit: 10 }, { name: "a", kind: "rolling", limit: 10, windowMs: 10 }] },
      { limits: [], concurrency: { maxConcurrent: 0, leaseMs: 1_000 } },
    ];
    for (const policy of bad) expect(() => limiter.forAccount("x", "y", policy)).toThrow(RangeError);
    expect(() => new SharedRateLimiter({ redis, keyPrefix, margin: 1.5 })).toThrow(RangeError);
  });
});
