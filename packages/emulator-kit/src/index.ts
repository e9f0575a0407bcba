export * from "./fault-registry.js";
