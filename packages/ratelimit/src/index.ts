export { SharedRateLimiter } from "./shared-rate-limiter.js";
export type { SharedRateLimiterOptions } from "./shared-rate-limiter.js";
export { AccountRateLimiter } from "./account-limiter.js";
export type { AcquireOutcome, AccountUsage, LimitUsage, ObservedUsage } from "./account-limiter.js";
export { DEFAULT_MARGIN, allowedBy, validatePolicy } from "./policy.js";
export type { ConcurrencyCap, DailyLimit, OperationClass, RateLimit, RatePolicy, RollingLimit } from "./policy.js";
export { parsePipedriveRateLimit, parseSforceLimitInfo, parseZohoCredits } from "./headers.js";
export type { RedisClient } from "./redis-script.js";
