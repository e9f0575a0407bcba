// Vitest global setup: runs once per `vitest run`, before any test file.
// Fails fast, naming the URL, when Postgres or Redis is down; then makes sure the migrated template
// database that `createTestDatabase()` clones exists (built once per version of prisma/migrations).
import { checkDatabase } from "../packages/db/src/client.js";
import { withDatabase } from "../packages/db/src/database-url.js";
import { ensureTemplateDatabase, testServerUrl } from "../packages/db/src/testing.js";
import { assertRedisReachable } from "./helpers/redis.js";

export default async function setup(): Promise<void> {
  const serverUrl = testServerUrl();
  const database = await checkDatabase(withDatabase(serverUrl, "postgres"));
  if (!database.ok) {
    throw new Error(`${database.message}. Start Postgres (docker compose up -d) or set DATABASE_URL.`);
  }
  await assertRedisReachable(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379");
  await ensureTemplateDatabase(serverUrl);
}
