export { startWorkers, type RunningWorkers, type WorkersDeps } from "./workers.js";
export { Coalescer, type CoalescerOptions, type FlushFailures } from "./coalescer.js";
export { createIntegrationDirectory, type Integration, type IntegrationDirectory } from "./integrations.js";
export { applyContactSnapshots, snapshotProperties, type SnapshotOptions, type SnapshotResult } from "./inbound/apply-snapshots.js";
export { metrics } from "./metrics.js";
export { replayFailedJobs, type ReplayResult, type ReplayTarget } from "./replay.js";
