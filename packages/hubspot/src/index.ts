// Webhook signature verification (v1/v2/v3).
export * from "./webhook-signature.js";

// Errors, rate limits.
export * from "./errors.js";
export * from "./rate-budget.js";
export * from "./rate-limiter.js";
