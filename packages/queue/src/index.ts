export * from "./jobs.js";
export * from "./connection.js";
export * from "./job-options.js";
export * from "./logger.js";
export * from "./queues.js";
export * from "./workers.js";
export * from "./shutdown.js";
export * from "./replication.js";
