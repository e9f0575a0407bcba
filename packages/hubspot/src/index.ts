// Webhook signature verification (v1/v2/v3).
export * from "./webhook-signature.js";

// Errors, rate limits.
export * from "./errors.js";
export * from "./rate-budget.js";
export * from "./rate-limiter.js";

// SDK access: client factory, provider, properties, account, webhook subscriptions, OAuth tokens.
export * from "./sdk-client.js";
export * from "./hubspot-provider.js";
export { hubspotCallMetrics } from "./call-metrics.js";
export * from "./upsert-batch.js";
export * from "./properties.js";
export * from "./account.js";
export * from "./webhook-subscriptions.js";
export * from "./oauth-tokens.js";

// HubSpot as a provider of the pipeline (the registry lists it).
export * from "./module.js";
export * from "./changes.js";
export * from "./webhook-verifier.js";
