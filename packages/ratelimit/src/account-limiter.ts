import { randomUUID } from "node:crypto";
import type { AccountCallLimiter } from "@leadsync/core";
import { CrmRateLimitedError } from "@leadsync/core";
import { accountTag, dailyKey, leaseKey, pauseKey, rollingKeys } from "./keys.js";
import type { RatePolicy, ResolvedCap, ResolvedLimit } from "./policy.js";
import { applicableTo, everyLimitOf, isDailyAllowance, resolutionOf } from "./policy.js";
import type { RedisClient } from "./redis-script.js";
import { ACQUIRE, OBSERVE, PAUSE, RELEASE, USAGE } from "./scripts.js";
import { localDate, msUntilLocalMidnight } from "./time-zone.js";

/** What the account limiter needs from the shared one. */
export interface LimiterContext {
  redis: RedisClient;
  keyPrefix: string;
  margin: number;
  /** Injected clock (tests); undefined = Redis's clock decides windows, the local clock only names days. */
  now: (() => number) | undefined;
}

export type AcquireOutcome =
  | { ok: true; grantedAt: number }
  | {
      ok: false;
      retryAfterMs: number;
      /** The limit's or cap's name; for a pause, the reason given to `pause`. */
      policy: string;
      daily: boolean;
      refusedBy: "limit" | "concurrency" | "paused";
    };

export interface LimitUsage {
  name: string;
  /** The operation class the limit belongs to; undefined for the account's own limits. */
  className: string | undefined;
  kind: "rolling" | "daily";
  /** The CRM's limit, and what we allow ourselves of it after the margin. */
  limit: number;
  allowed: number;
  used: number;
  remaining: number;
  /** Rolling: until the oldest units in the window leave it (0 when empty). Daily: until local midnight. */
  resetInMs: number;
}

export interface AccountUsage {
  pausedForMs: number;
  pauseReason: string | undefined;
  limits: LimitUsage[];
  concurrency: { name: string; className: string | undefined; inFlight: number; maxConcurrent: number }[];
}

export interface ObservedUsage {
  window: string;
  used?: number;
  remaining?: number;
  limit?: number;
  resetInMs?: number;
}

interface Lease {
  token: string;
  keys: string[];
  /** When Redis drops it anyway (by this process's clock: only for forgetting it here). */
  lapsesAt: number;
}

const UNKNOWN = -1;
/** A pause at least this long is a spent allowance (the day's), not a burst: refusals say `daily`. */
const DAILY_PAUSE_MS = 60 * 60 * 1000;

/**
 * One CRM account's view of the shared limiter. Cheap to create (it holds the policy and the leases it took, nothing
 * else); every decision is made in Redis, so any number of these in any number of processes share one budget.
 */
export class AccountRateLimiter implements AccountCallLimiter {
  private readonly tag: string;
  /**
   * Leases this instance holds, by operation: `release(operation)` hands back one of them. Empty entries are dropped,
   * and lapsed ones when the next lease of that operation is taken, so a caller that never releases leaks nothing.
   */
  private readonly leases = new Map<string, Lease[]>();

  constructor(
    private readonly context: LimiterContext,
    readonly provider: string,
    readonly accountId: string,
    private readonly policy: RatePolicy,
  ) {
    this.tag = accountTag(context.keyPrefix, provider, accountId);
  }

  /** Takes `cost` units from every limit that applies to `operation` (and a slot of each cap), all or none. */
  async tryAcquire(operation: string, cost = 1): Promise<AcquireOutcome> {
    if (!Number.isInteger(cost) || cost < 0) throw new RangeError(`cost must be a non-negative integer, not ${cost}`);
    const { limits, caps } = applicableTo(this.policy, operation, this.context.margin);
    const clock = this.context.now?.();
    const wallClock = clock ?? Date.now();
    const keys = [pauseKey(this.tag)];
    const token = caps.length > 0 ? randomUUID() : "";
    const args: (string | number)[] = [clock ?? "", token, limits.length, caps.length];
    for (const resolved of limits) {
      const units = resolved.limit.counts === "requests" ? Math.min(cost, 1) : cost;
      if (units > resolved.allowed) {
        throw new RangeError(`${this.describe()}: ${units} units can never fit ${resolved.limit.name} (${resolved.allowed} allowed)`);
      }
      keys.push(...this.limitKeys(resolved, wallClock));
      args.push(...this.limitArgs(resolved, units, wallClock));
    }
    for (const resolved of caps) {
      keys.push(leaseKey(this.tag, resolved.keyStem));
      args.push(resolved.cap.maxConcurrent, resolved.cap.leaseMs, resolved.cap.retryAfterMs ?? 1000);
    }

    // Granted: [1, grantedAt]. Refused: [0, index of what refused, retryAfterMs, pause reason].
    const [granted, value, retryAfterMs, reason] = (await ACQUIRE.run(this.context.redis, keys, args)) as [number, number, number?, string?];
    if (granted === 1) {
      if (caps.length > 0) {
        const leaseMs = Math.min(...caps.map((c) => c.cap.leaseMs));
        this.remember(operation, { token, keys: keys.slice(keys.length - caps.length), lapsesAt: wallClock + leaseMs }, wallClock);
      }
      return { ok: true, grantedAt: value };
    }
    return this.refusal(value, retryAfterMs ?? 1, reason ?? "", limits, caps);
  }

  /** `AccountCallLimiter.acquire`: throws core's `CrmRateLimitedError` on a refusal, so the job is delayed, not failed. */
  async acquire(operation: string, cost = 1): Promise<void> {
    const outcome = await this.tryAcquire(operation, cost);
    if (outcome.ok) return;
    const what = outcome.refusedBy === "paused" ? `paused (${outcome.policy})` : `${outcome.policy} has no room`;
    throw new CrmRateLimitedError(`${this.describe()}: ${what}; retry in ${outcome.retryAfterMs} ms`, {
      retryAfterMs: outcome.retryAfterMs,
      policy: outcome.policy,
      daily: outcome.daily,
    });
  }

  /** Hands back a concurrency slot this instance took for `operation`; nothing to do when it holds none. */
  async release(operation: string): Promise<void> {
    const held = this.leases.get(operation);
    const lease = held?.pop();
    if (held?.length === 0) this.leases.delete(operation);
    if (lease) await RELEASE.run(this.context.redis, lease.keys, [lease.token]);
  }

  /** No call for this account, in any process, until `ms` from now. Extends a pause, never shortens one. */
  async pause(ms: number, reason: string): Promise<void> {
    await PAUSE.run(this.context.redis, [pauseKey(this.tag)], [this.context.now?.() ?? "", Math.max(1, Math.ceil(ms)), reason]);
  }

  /**
   * Corrects the count of the limit (or limits, one per class) named `usage.window` from the CRM's own report:
   * units the CRM counted and we did not are added. It only ever tightens: a higher `limit` than configured, or
   * fewer units used than we counted, changes nothing. Unknown windows are ignored.
   */
  async observe(usage: ObservedUsage): Promise<void> {
    const matching = everyLimitOf(this.policy, this.context.margin).limits.filter((l) => l.limit.name === usage.window);
    if (matching.length === 0) return;
    const { used, remaining, limit } = usage;
    const crmUsed = used ?? (limit !== undefined && remaining !== undefined ? limit - remaining : undefined);
    const crmRemaining = remaining ?? (limit !== undefined && used !== undefined ? limit - used : undefined);
    if (crmUsed === undefined && crmRemaining === undefined) return;
    const clock = this.context.now?.();
    const wallClock = clock ?? Date.now();
    for (const resolved of matching) {
      await OBSERVE.run(this.context.redis, this.limitKeys(resolved, wallClock), [
        clock ?? "",
        ...this.limitArgs(resolved, 0, wallClock),
        crmUsed === undefined ? UNKNOWN : Math.max(0, Math.ceil(crmUsed)),
        crmRemaining === undefined ? UNKNOWN : Math.max(0, Math.floor(crmRemaining)),
        usage.resetInMs === undefined ? UNKNOWN : Math.max(0, Math.ceil(usage.resetInMs)),
      ]);
    }
  }

  /** Every limit's and cap's current use, for status pages and metrics. Changes nothing. */
  async usage(): Promise<AccountUsage> {
    const { limits, caps } = everyLimitOf(this.policy, this.context.margin);
    const clock = this.context.now?.();
    const wallClock = clock ?? Date.now();
    const keys = [pauseKey(this.tag)];
    const args: (string | number)[] = [clock ?? "", limits.length, caps.length];
    for (const resolved of limits) {
      keys.push(...this.limitKeys(resolved, wallClock));
      args.push(...this.limitArgs(resolved, 0, wallClock));
    }
    for (const resolved of caps) keys.push(leaseKey(this.tag, resolved.keyStem));
    const reply = (await USAGE.run(this.context.redis, keys, args)) as (number | string)[];
    const at = (i: number) => Number(reply[i] ?? 0);
    return {
      pausedForMs: at(1),
      pauseReason: at(1) > 0 ? String(reply[2]) : undefined,
      limits: limits.map((resolved, i) => {
        const used = at(3 + 2 * i);
        return {
          name: resolved.limit.name,
          className: resolved.className,
          kind: resolved.limit.kind,
          limit: resolved.limit.limit,
          allowed: resolved.allowed,
          used,
          remaining: Math.max(0, resolved.allowed - used),
          resetInMs: at(4 + 2 * i),
        };
      }),
      concurrency: caps.map((resolved, j) => ({
        name: resolved.name,
        className: resolved.className,
        inFlight: at(3 + 2 * limits.length + j),
        maxConcurrent: resolved.cap.maxConcurrent,
      })),
    };
  }

  private limitKeys(resolved: ResolvedLimit, wallClock: number): string[] {
    const { limit, keyStem } = resolved;
    if (limit.kind === "rolling") return rollingKeys(this.tag, keyStem);
    return [dailyKey(this.tag, keyStem, localDate(wallClock, limit.timeZone))];
  }

  /** One limit's ARGV group (see scripts.ts). */
  private limitArgs(resolved: ResolvedLimit, units: number, wallClock: number): (string | number)[] {
    const { limit, allowed } = resolved;
    if (limit.kind === "rolling") return ["r", allowed, units, limit.windowMs, resolutionOf(limit, allowed)];
    return ["d", allowed, units, msUntilLocalMidnight(wallClock, limit.timeZone), 0];
  }

  private refusal(index: number, retryAfterMs: number, reason: string, limits: ResolvedLimit[], caps: ResolvedCap[]): AcquireOutcome {
    if (index === 0) {
      return { ok: false, retryAfterMs, policy: reason || "paused", daily: retryAfterMs >= DAILY_PAUSE_MS, refusedBy: "paused" };
    }
    const limit = limits[index - 1];
    if (limit) return { ok: false, retryAfterMs, policy: limit.limit.name, daily: isDailyAllowance(limit.limit), refusedBy: "limit" };
    const cap = caps[index - 1 - limits.length];
    return { ok: false, retryAfterMs, policy: cap?.name ?? "concurrency", daily: false, refusedBy: "concurrency" };
  }

  private remember(operation: string, lease: Lease, now: number): void {
    const live = (this.leases.get(operation) ?? []).filter((held) => held.lapsesAt > now);
    live.push(lease);
    this.leases.set(operation, live);
  }

  private describe(): string {
    return `${this.provider} account ${this.accountId}`;
  }
}
