import { localDate } from "./time-zone.js";

/**
 * What a CRM allows one account, as data: any number of limits, an optional concurrency cap, and optional limits
 * for classes of operations (Pipedrive search). A provider package builds one from its plan facts; this package
 * only enforces it.
 */

import type { ConcurrencyCap, DailyLimit, OperationClass, RateLimit, RatePolicy, RollingLimit } from "@leadsync/core";

// The policy types live in core (provider packages build policies without depending on this package).
export type { ConcurrencyCap, DailyLimit, OperationClass, RateLimit, RatePolicy, RollingLimit };

/** One limit as the scripts see it: its Redis key stem, and `allowed` after the margin. */
export interface ResolvedLimit {
  limit: RateLimit;
  /** undefined for the account's own limits. */
  className: string | undefined;
  allowed: number;
  /** Part of the limit's keys: unique within the account. */
  keyStem: string;
}

export interface ResolvedCap {
  cap: ConcurrencyCap;
  name: string;
  className: string | undefined;
  keyStem: string;
}

export const DEFAULT_MARGIN = 0.95;
const DEFAULT_CAP_NAME = "concurrency";
const BUCKETS_PER_WINDOW = 2000;

export function resolutionOf(limit: RollingLimit, allowed: number): number {
  if (limit.resolutionMs !== undefined) return limit.resolutionMs;
  return allowed <= BUCKETS_PER_WINDOW ? 1 : Math.ceil(limit.windowMs / BUCKETS_PER_WINDOW);
}

/** `limit` after the margin, at least 1 (a 95% margin on a limit of 1 must not forbid every call). */
export function allowedBy(limit: RateLimit, margin: number): number {
  return Math.max(1, Math.floor(limit.limit * (limit.margin ?? margin)));
}

/** Names become parts of Redis keys: encoded so a ':' or a brace in a name cannot collide with another key. */
const part = (text: string) => encodeURIComponent(text);

function resolveLimits(limits: readonly RateLimit[] | undefined, className: string | undefined, margin: number): ResolvedLimit[] {
  const scope = className === undefined ? "limit" : `class:${part(className)}`;
  return (limits ?? []).map((limit) => ({ limit, className, allowed: allowedBy(limit, margin), keyStem: `${scope}:${part(limit.name)}` }));
}

function resolveCap(cap: ConcurrencyCap | undefined, className: string | undefined): ResolvedCap[] {
  if (!cap) return [];
  const name = cap.name ?? DEFAULT_CAP_NAME;
  const scope = className === undefined ? "lease" : `class:${part(className)}:lease`;
  return [{ cap, name, className, keyStem: `${scope}:${part(name)}` }];
}

/** The limits and caps one operation takes from: the account's, plus its class's. */
export function applicableTo(policy: RatePolicy, operation: string, margin: number): { limits: ResolvedLimit[]; caps: ResolvedCap[] } {
  const className = policy.classOf?.(operation);
  const cls = className === undefined ? undefined : policy.classes?.[className];
  const limits = resolveLimits(policy.limits, undefined, margin);
  const caps = resolveCap(policy.concurrency, undefined);
  if (cls && className !== undefined) {
    limits.push(...resolveLimits(cls.limits, className, margin));
    caps.push(...resolveCap(cls.concurrency, className));
  }
  return { limits, caps };
}

/** Every limit and cap of the policy, whatever the operation (observe, usage). */
export function everyLimitOf(policy: RatePolicy, margin: number): { limits: ResolvedLimit[]; caps: ResolvedCap[] } {
  const limits = resolveLimits(policy.limits, undefined, margin);
  const caps = resolveCap(policy.concurrency, undefined);
  for (const [className, cls] of Object.entries(policy.classes ?? {})) {
    limits.push(...resolveLimits(cls.limits, className, margin));
    caps.push(...resolveCap(cls.concurrency, className));
  }
  return { limits, caps };
}

const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;

/** Throws a RangeError naming the first mistake: a bad policy is a programming error, better found at startup. */
export function validatePolicy(policy: RatePolicy): void {
  const { limits, caps } = everyLimitOf(policy, DEFAULT_MARGIN);
  const stems = new Set<string>();
  for (const { limit, keyStem } of limits) {
    const where = `rate limit ${JSON.stringify(limit.name)}`;
    if (limit.name === "") throw new RangeError("A rate limit needs a name");
    if (stems.has(keyStem)) throw new RangeError(`Two rate limits are named ${JSON.stringify(limit.name)} in one scope`);
    stems.add(keyStem);
    if (!positiveInteger(limit.limit)) throw new RangeError(`${where}: limit must be a positive integer`);
    if (limit.margin !== undefined && !(limit.margin > 0 && limit.margin <= 1)) throw new RangeError(`${where}: margin must be in (0, 1]`);
    if (limit.kind === "rolling") {
      if (!positiveInteger(limit.windowMs)) throw new RangeError(`${where}: windowMs must be a positive integer`);
      if (limit.resolutionMs !== undefined && !(positiveInteger(limit.resolutionMs) && limit.resolutionMs <= limit.windowMs)) {
        throw new RangeError(`${where}: resolutionMs must be a positive integer no larger than windowMs`);
      }
    } else if (limit.timeZone !== undefined) {
      localDate(0, limit.timeZone); // throws RangeError on an unknown zone (and caches the formatter of a known one)
    }
  }
  for (const { cap, name } of caps) {
    if (!positiveInteger(cap.maxConcurrent) || !positiveInteger(cap.leaseMs)) {
      throw new RangeError(`concurrency cap ${JSON.stringify(name)}: maxConcurrent and leaseMs must be positive integers`);
    }
  }
}

/** True for a day's allowance (a daily limit, or a rolling window of 24 h or more) rather than a short burst window. */
export function isDailyAllowance(limit: RateLimit): boolean {
  return limit.kind === "daily" || limit.windowMs >= 24 * 60 * 60 * 1000;
}
