import type { Config } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import type { IntegrationClients } from "@leadsync/providers";
import type { QUEUES, TypedQueue } from "@leadsync/queue";
import type { Redis } from "ioredis";

/** What the API's routes need, injected by whoever builds the app (server.ts, apps/dev, tests). */
export interface ApiDeps {
  config: Config;
  prisma: PrismaClient;
  queues: {
    crmOutbound: TypedQueue<typeof QUEUES.crmOutbound>;
    /** Shown in Bull Board; created from the connection (with crmOutbound's prefix) when not given. */
    crmChanges?: TypedQueue<typeof QUEUES.crmChanges>;
  };
  /** A producer connection (`createRedisConnection(url, { role: "producer" })`): readiness check, Bull Board's queues. */
  connection: Redis;
  /** Provider clients of integrations (field checks, backfill, feed set-up); built by the app when not given. */
  clients: IntegrationClients;
}

/** Just the dependencies out of a plugin's options (which also carry Fastify's `prefix`, not to be passed on). */
export function pickDeps({ config, prisma, queues, connection, clients }: ApiDeps): ApiDeps {
  return { config, prisma, queues, connection, clients };
}
