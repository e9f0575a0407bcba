export * from "./registry.js";
export * from "./environment.js";
export * from "./integration-clients.js";
export * from "./call-metrics.js";
