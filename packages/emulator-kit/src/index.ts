export * from "./fault-registry.js";
export * from "./snapshot.js";
export * from "./listen.js";
