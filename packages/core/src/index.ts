export * from "./webhook-event.js";
export * from "./dedupe.js";
export * from "./lead-fields.js";
export * from "./provider.js";
export * from "./token-crypto.js";
