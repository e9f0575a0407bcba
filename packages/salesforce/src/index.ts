// The provider module the apps register.
export * from "./salesforce-provider.js";

// The parts the lead may need directly: client, connect, OAuth, limits, change-event mapping, errors.
export * from "./salesforce-client.js";
export * from "./session.js";
export * from "./connect.js";
export * from "./oauth-tokens.js";
export * from "./budget.js";
export * from "./change-events.js";
export * from "./change-feed.js";
export { createSalesforcePulledFeed, salesforcePulledFeed, DEFAULT_PUBSUB_URL, type PulledFeedOptions } from "./pulled-feed.js";
export * from "./errors.js";
export * from "./constants.js";
