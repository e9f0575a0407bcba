import { Writable } from "node:stream";
import { loadConfig, REDACT_PATHS, type Config, type RawEnv } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import { createTestDatabase, type TestDatabase } from "@leadsync/db/testing";
import { createQueue, createRedisConnection, QUEUES, type TypedQueue } from "@leadsync/queue";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { RedisClient } from "@leadsync/queue";
import { pino } from "pino";
import { cleanupPrefix, uniqueQueuePrefix } from "../../../test/helpers/redis.js";
import { buildApiApp } from "../src/app.js";
import { signDevToken } from "../src/dev-token.js";

export const TEST_JWT_SECRET = "api-test-jwt-secret-0123456789abcdef";
export const BULL_BOARD = { user: "ops", password: "ops-password-for-tests" };

/** Every log line the app wrote, as parsed JSON and as raw text (to search for leaked secrets). */
export class CapturedLogs extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join("\n");
  }
}

export interface ApiHarness {
  app: FastifyInstance;
  config: Config;
  db: TestDatabase;
  connection: RedisClient;
  crmOutbound: TypedQueue<typeof QUEUES.crmOutbound>;
  logs: CapturedLogs;
  /** Every response body the harness saw (through `call`), to search for leaked tokens. */
  bodies: string[];
  token(orgId: string): string;
  /** app.inject with a Bearer token for `orgId` (or none with `orgId: null`). */
  call(orgId: string | null, method: "GET" | "POST" | "PATCH", url: string, body?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A real app on a fresh database, a unique queue prefix on the local Redis, and captured logs. */
export interface StartApiOptions {
  /** Runs after the app is built and before it is ready: hooks, or plugins mounted beside the API (as apps/dev does). */
  beforeReady?: (app: FastifyInstance, context: { config: Config; connection: RedisClient; prefix: string }) => Promise<void> | void;
  /** The app's Prisma client on the test database, instead of `db.prisma` (e.g. one that explains its queries). */
  prismaFor?: (databaseUrl: string) => PrismaClient;
}

export async function startApi(env: Partial<Record<keyof RawEnv, string>> = {}, options: StartApiOptions = {}): Promise<ApiHarness> {
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "debug",
    JWT_SECRET: TEST_JWT_SECRET,
    BULL_BOARD_USER: BULL_BOARD.user,
    BULL_BOARD_PASSWORD: BULL_BOARD.password,
    API_URL: "http://api.example.test",
    REDIS_URL: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
    ...env,
  });
  const db = await createTestDatabase();
  const connection = createRedisConnection(config.redisUrl, { role: "producer", connectionName: "api-test" });
  await new Promise<void>((resolve, reject) => {
    connection.once("ready", resolve);
    connection.once("error", reject);
  });
  const prefix = uniqueQueuePrefix();
  const logs = new CapturedLogs();
  const logger = pino({ level: "debug", redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, logs);
  const crmOutbound = createQueue(QUEUES.crmOutbound, { connection, prefix, logger });
  const prisma = options.prismaFor?.(db.url) ?? db.prisma;
  const app = buildApiApp({ config: { ...config, queuePrefix: prefix }, prisma, connection, queues: { crmOutbound }, logger });
  await options.beforeReady?.(app, { config, connection, prefix });
  await app.ready();
  const bodies: string[] = [];
  const token = (orgId: string) => signDevToken(config, orgId);

  return {
    app,
    config,
    db,
    connection,
    crmOutbound,
    logs,
    bodies,
    token,
    async call(orgId, method, url, body) {
      const response = await app.inject({
        method,
        url,
        ...(orgId !== null && { headers: { authorization: `Bearer ${token(orgId)}` } }),
        ...(body !== undefined && { payload: body as Record<string, unknown> }),
      });
      bodies.push(response.body);
      return response;
    },
    async close() {
      await app.close();
      await crmOutbound.close();
      await cleanupPrefix(connection, prefix);
      await connection.quit();
      if (prisma !== db.prisma) await prisma.$disconnect();
      await db.drop();
    },
  };
}
