import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../packages/db/src/testing.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { cleanupPrefix, uniqueQueuePrefix } from "../helpers/redis.js";
import { devStartEnv, pnpmStart } from "./child.js";

describe("Ctrl-C on pnpm start", () => {
  let db: TestDatabase;
  const prefix = uniqueQueuePrefix();
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    const redis = createRedisConnection(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { role: "producer" });
    await cleanupPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await db?.drop();
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal}: logs what stopped and a final "stopped" line, and pnpm exits 0 without ELIFECYCLE`, async () => {
      const started = await pnpmStart(await devStartEnv(db.url, prefix));
      started.interrupt(signal);
      const { code } = await started.exited;
      const output = started.output();
      const tail = output.slice(output.indexOf("LeadSync is running"));
      expect(tail).not.toContain("ELIFECYCLE");
      for (const part of ["HTTP server", "workers", "queues", "database", "Salesforce emulator", "Zoho CRM emulator", "Pipedrive emulator", "HubSpot sandbox"]) expect(tail).toMatch(new RegExp(`Stopped.*${part}`, "i"));
      expect(tail.trim().split("\n").at(-1)).toMatch(/LeadSync stopped/);
      expect(code, tail).toBe(0);
    }, 90_000);
  }
});
