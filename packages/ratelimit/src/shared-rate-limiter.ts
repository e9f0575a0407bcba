import type { AccountUsage, LimiterContext } from "./account-limiter.js";
import { AccountRateLimiter } from "./account-limiter.js";
import type { RatePolicy } from "./policy.js";
import { DEFAULT_MARGIN, validatePolicy } from "./policy.js";
import type { RedisClient } from "./redis-script.js";

export interface SharedRateLimiterOptions {
  /** ioredis client (or Cluster); shared with other users of the connection, never closed here. */
  redis: RedisClient;
  /** Start of every key; the app passes `${QUEUE_PREFIX}:ratelimit`. */
  keyPrefix: string;
  /**
   * Share of each limit we use (default 0.95). We count a call when we grant it, the CRM when it arrives: network
   * jitter and clock skew push a few extra calls into one of the CRM's windows, and the CRM's allowance is shared
   * with every other integration of the account. Staying 5% below keeps refusals from the CRM rare.
   */
  margin?: number;
  /** A clock for tests (ms epoch). Default: Redis's clock decides windows, the local clock names the local day. */
  now?: () => number;
}

/**
 * The shared, cross-process rate limiter every CRM provider uses: state in Redis, one atomic Lua script per decision.
 * It holds no per-account state, so one instance serves every account of every provider in a process.
 */
export class SharedRateLimiter {
  private readonly context: LimiterContext;

  constructor(options: SharedRateLimiterOptions) {
    const margin = options.margin ?? DEFAULT_MARGIN;
    if (!(margin > 0 && margin <= 1)) throw new RangeError("margin must be in (0, 1]");
    this.context = { redis: options.redis, keyPrefix: options.keyPrefix, margin, now: options.now };
  }

  /** The limiter of one account under `policy` (validated here: a bad policy throws RangeError). Cheap; make one per client. */
  forAccount(provider: string, accountId: string, policy: RatePolicy): AccountRateLimiter {
    validatePolicy(policy);
    return new AccountRateLimiter(this.context, provider, accountId, policy);
  }

  /** Every limit's current use for one account, for status and metrics. */
  async usage(provider: string, accountId: string, policy: RatePolicy): Promise<AccountUsage> {
    return this.forAccount(provider, accountId, policy).usage();
  }
}
