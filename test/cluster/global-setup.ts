// Global setup of the `cluster` vitest project (test/cluster/**): one Redis Cluster shared by its test files,
// 3 masters with a replica each (the app WAITs for a replica before it acknowledges a job), started once per
// `vitest run` and only when a cluster test file is part of the run. Files read it with
// `inject("redisClusterNodes")` and keep to their own key prefixes; a test that kills nodes starts its own cluster.
import type { TestProject } from "vitest/node";
import { startRedisCluster } from "../helpers/redis-cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared cluster's nodes, as REDIS_CLUSTER_NODES takes them: `127.0.0.1:p1,127.0.0.1:p2,…`. */
    redisClusterNodes: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // No test fails this cluster over on purpose: a long node timeout keeps a node stalled by a busy machine from being failed.
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 5_000 });
  project.provide("redisClusterNodes", cluster.nodesEnv);
  return () => cluster.stop();
}
