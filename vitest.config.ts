import { defineConfig } from "vitest/config";

// One run for the whole workspace. Tests use the real Postgres and Redis: each test file gets its own
// database (cloned from a migrated template made in the global setup) and its own queue prefix.
// Two projects: `main` (everything but test/cluster) and `cluster`, whose global setup also starts a shared
// Redis Cluster; a project's global setup runs only when one of its files is in the run.
const shared = {
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: "forks",
} as const;

export default defineConfig({
  test: {
    reporters: ["default"],
    projects: [
      {
        test: {
          ...shared,
          name: "main",
          include: ["apps/*/{src,test}/**/*.test.ts", "packages/*/{src,test}/**/*.test.ts", "test/**/*.test.ts", "bench/**/*.test.ts"],
          exclude: ["**/node_modules/**", "test/cluster/**"],
          globalSetup: ["./test/global-setup.ts"],
        },
      },
      {
        test: {
          ...shared,
          name: "cluster",
          include: ["test/cluster/**/*.test.ts"],
          globalSetup: ["./test/global-setup.ts", "./test/cluster/global-setup.ts"],
        },
      },
    ],
  },
});
