import { createServer } from "node:net";
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

  // On a cluster, its first seed node answers for it (the cluster client finds the others).
  const seed = config.redis.clusterNodes?.[0];
  const where = seed ? `${seed.host}:${seed.port} (REDIS_CLUSTER_NODES)` : redactUrl(config.redisUrl);
  const options = { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null };
  const redis = seed ? new Redis({ host: seed.host, port: seed.port, ...options }) : new Redis(config.redisUrl, options);
  let lastError: unknown;
  redis.on("error", (error: unknown) => (lastError = error)); // the socket's own error says more than "Connection is closed"
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new StartupError(`Cannot reach Redis at ${where} (${describe(lastError ?? error)}). ${HINT}`);
  } finally {
    redis.disconnect();
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

/** One port `pnpm start` is about to listen on, and the variable that moves it. */
export interface PlannedPort {
  port: number;
  envVar: string;
  /** e.g. "the Salesforce emulator's Pub/Sub gRPC port (SALESFORCE_SANDBOX_PORT + 1)" */
  what: string;
}

/**
 * Fails with one line naming the variable to change when a port is taken, before anything starts (so no emulator is
 * left half-started). Port 0 (any free port) is never taken. A port can still be taken between this check and the
 * listen: the start functions report EADDRINUSE the same way.
 */
export async function assertPortsFree(host: string, ports: readonly PlannedPort[]): Promise<void> {
  const seen = new Map<number, PlannedPort>();
  for (const planned of ports) {
    if (planned.port === 0) continue;
    const twice = seen.get(planned.port);
    if (twice) throw new StartupError(`Port ${planned.port} is used twice: by ${twice.what} and ${planned.what}; set ${planned.envVar} to another port.`);
    seen.set(planned.port, planned);
    const problem = await tryListen(host, planned.port);
    if (problem === "EADDRINUSE") throw new StartupError(`Port ${planned.port} (${planned.what}) is in use: set ${planned.envVar} to a free port (0 picks any).`);
    if (problem) throw new StartupError(`Cannot listen on ${host}:${planned.port} (${planned.what}: ${problem}); set ${planned.envVar} to another port.`);
  }
}

function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
