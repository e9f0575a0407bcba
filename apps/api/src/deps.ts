import type { Config } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import type { IntegrationClients } from "@leadsync/providers";
import type { QUEUES, QueueGroup, RedisClient } from "@leadsync/queue";

/** What the API's routes need, injected by whoever builds the app (server.ts, apps/dev, tests). */
export interface ApiDeps {
  config: Config;
  prisma: PrismaClient;
  queues: {
    /** Leads to push, routed by integration (shards, lanes). */
    crmOutbound: QueueGroup<typeof QUEUES.crmOutbound>;
    /** Shown in Bull Board. */
    crmChanges: QueueGroup<typeof QUEUES.crmChanges>;
  };
  /** A producer connection (`createRedisConnection(url, { role: "producer" })`): readiness check, Bull Board's queues. */
  connection: RedisClient;
  /** Provider clients of integrations (field checks, backfill, feed set-up); built by the app when not given. */
  clients: IntegrationClients;
}

/** Just the dependencies out of a plugin's options (which also carry Fastify's `prefix`, not to be passed on). */
export function pickDeps({ config, prisma, queues, connection, clients }: ApiDeps): ApiDeps {
  return { config, prisma, queues, connection, clients };
}
