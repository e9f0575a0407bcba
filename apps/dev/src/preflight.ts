import pg from "pg";
import { Redis } from "ioredis";
import { redactUrl, type Config } from "@leadsync/config";

/** A startup problem the user can fix: printed as one clear line, never as a stack trace. */
export class StartupError extends Error {
  override name = "StartupError";
}

const HINT = "Start Postgres and Redis (e.g. `docker compose up -d`) or set DATABASE_URL / REDIS_URL.";

/** Checks that Postgres (its server: the database itself may not exist yet) and Redis answer. */
export async function preflight(config: Config): Promise<void> {
  const serverUrl = new URL(config.databaseUrl);
  serverUrl.pathname = "/postgres";
  const client = new pg.Client({ connectionString: serverUrl.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    throw new StartupError(`Cannot reach Postgres at ${redactUrl(config.databaseUrl)} (${describe(error)}). ${HINT}`);
  } finally {
    await client.end().catch(() => undefined);
  }

  const redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let lastError: unknown;
  redis.on("error", (error: unknown) => (lastError = error)); // the socket's own error says more than "Connection is closed"
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new StartupError(`Cannot reach Redis at ${redactUrl(config.redisUrl)} (${describe(lastError ?? error)}). ${HINT}`);
  } finally {
    redis.disconnect();
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}
