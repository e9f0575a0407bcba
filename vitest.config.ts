import { defineConfig } from "vitest/config";

// One run for the whole workspace. Tests use the real Postgres and Redis: each test file gets its own
// database (cloned from a migrated template made in the global setup) and its own queue prefix.
export default defineConfig({
  test: {
    include: ["apps/*/{src,test}/**/*.test.ts", "packages/*/{src,test}/**/*.test.ts", "test/**/*.test.ts", "bench/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
