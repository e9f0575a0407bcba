// Webhook signature verification (v1/v2/v3).
export * from "./webhook-signature.js";
