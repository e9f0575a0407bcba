/**
 * What a CRM allows one account, as data: any number of limits, an optional concurrency cap, and optional limits
 * for classes of operations (Pipedrive search). A provider package builds one from its plan facts
 * (CrmProviderModule.limitPolicy); @leadsync/ratelimit enforces it across processes.
 */

export interface LimitBase {
  /** The limit's name, reported as `policy` of a refusal and matched by `observe({ window })`. Unique per scope. */
  name: string;
  /** What the CRM allows in one window, before the safety margin. */
  limit: number;
  /**
   * What one call takes from this limit: `cost` (default) takes the caller's cost (Zoho credits, Pipedrive tokens);
   * `requests` takes 1 whatever the cost (Pipedrive's burst limit counts requests while its daily budget counts tokens).
   */
  counts?: "cost" | "requests";
  /** This limit's share of `limit` we use; overrides the limiter's margin (e.g. 1 for a tiny limit given slack in time). */
  margin?: number;
}

/** A sliding window over the last `windowMs` (HubSpot 10 s, Pipedrive burst 2 s, Salesforce and Zoho 24 h). */
export interface RollingLimit extends LimitBase {
  kind: "rolling";
  windowMs: number;
  /**
   * Grants are counted in time buckets this wide, so a window holds at most ~2000 entries however busy the account.
   * Default: 1 ms (exact) when the window allows at most 2000 units (it cannot hold more grants than that), else
   * `ceil(windowMs / 2000)` (43.2 s for 24 h). A grant is stamped at the end of its bucket: it leaves the window up
   * to one bucket late, never early.
   */
  resolutionMs?: number;
}

/** A budget that resets at midnight in `timeZone` (IANA, default UTC): Pipedrive's daily token budget. */
export interface DailyLimit extends LimitBase {
  kind: "daily";
  timeZone?: string;
}

export type RateLimit = RollingLimit | DailyLimit;

/**
 * At most `maxConcurrent` calls in flight (Zoho per-org concurrency, Salesforce long-running requests). A slot is
 * handed back by `release()`, or lapses `leaseMs` after it was taken, so a process that dies does not leak it.
 */
export interface ConcurrencyCap {
  /** Default "concurrency". */
  name?: string;
  maxConcurrent: number;
  /** Longer than the slowest call (Salesforce times a REST call out after 10 min). */
  leaseMs: number;
  /**
   * When every slot is taken the refusal says "retry in" the time until the oldest lease lapses, but at most this
   * (default 1000 ms): slots are normally released long before their lease ends.
   */
  retryAfterMs?: number;
}

/** Extra limits for one class of operations, on top of the account's own. */
export interface OperationClass {
  limits?: readonly RateLimit[];
  concurrency?: ConcurrencyCap;
}

export interface RatePolicy {
  /** Limits every operation takes from. */
  limits: readonly RateLimit[];
  concurrency?: ConcurrencyCap;
  /** The class of an operation (e.g. "search"), or undefined for none; its limits apply on top of the account's. */
  classOf?: (operation: string) => string | undefined;
  classes?: Readonly<Record<string, OperationClass>>;
}

