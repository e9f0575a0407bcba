export * from "./webhook-event.js";
export * from "./dedupe.js";
export * from "./lead-fields.js";
export * from "./provider.js";
export * from "./token-crypto.js";
export * from "./field-mapping.js";
export * from "./conflict.js";
export * from "./echo.js";
