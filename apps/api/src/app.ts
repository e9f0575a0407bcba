import fastifyRateLimit from "@fastify/rate-limit";
import { createLogger } from "@leadsync/config";
import { asQueueGroup, createQueue, createQueueGroup, QUEUES, type QueueGroup, type QueueName, type TypedQueue } from "@leadsync/queue";
import { createIntegrationClients } from "@leadsync/providers";
import type { Queue } from "bullmq";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler, type FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import { pickDeps, type ApiDeps } from "./deps.js";
import authPlugin, { type PlatformClaims } from "./plugins/auth.js";
import bullBoardPlugin from "./plugins/bull-board.js";
import docsPlugin from "./plugins/docs.js";
import errorHandlerPlugin from "./plugins/error-handler.js";
import healthRoutes from "./plugins/health.js";
import metricsPlugin from "./plugins/metrics.js";
import crmIntegrationRoutes from "./routes/crm-integration/index.js";
import leadRoutes from "./routes/leads/index.js";
import oauthRoutes from "./routes/oauth/index.js";
import { forgetPushingIntegrations } from "./services/outbound.js";

export interface BuildApiAppOptions extends Omit<ApiDeps, "clients" | "queues"> {
  /**
   * The producers' queues (their shards and lanes), or single queues (tests); crm-changes and crm-sync, shown in Bull
   * Board, are opened here on crm-outbound's layout when not given.
   */
  queues: {
    crmOutbound: TypedQueue<typeof QUEUES.crmOutbound> | QueueGroup<typeof QUEUES.crmOutbound>;
    crmChanges?: TypedQueue<typeof QUEUES.crmChanges> | QueueGroup<typeof QUEUES.crmChanges>;
  };
  /** Provider clients (the worker's when running in one process); built from the other deps when not given. */
  clients?: ApiDeps["clients"];
  /** A pino logger (with redaction); default: the shared LeadSync logger at `config.logLevel`. */
  logger?: Logger;
}

/**
 * Requests per minute without a platform JWT (health checks, docs, the dashboard, refused tokens), per client IP:
 * it stops a runaway client. Authenticated requests count per org instead (`API_RATE_LIMIT_PER_MINUTE`): the
 * platform's backend calls for every org from a few IPs, and one org's import must not throttle the others.
 */
const ANONYMOUS_PER_IP_PER_MINUTE = 1000;
/** HubSpot's webhook deliveries are bursts from few IPs and must never be throttled (the receiver's own limits apply). */
const isWebhookRequest = (url: string) => url.startsWith("/api/v1/webhooks/");

/** Everything under /api/v1 except webhooks: a platform JWT is required, and its orgId scopes every query. */
const platformApi: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  app.addHook("onRequest", app.authenticate);
  // An integration this process changed is seen by the org's next lead, not after the pushing-integrations cache expires.
  app.addHook("onSend", async (request, reply) => {
    if (request.method !== "GET" && request.url.startsWith("/api/v1/crm-integration") && reply.statusCode < 400) {
      forgetPushingIntegrations(deps.prisma, request.user.orgId);
    }
  });
  await app.register(leadRoutes, { ...pickDeps(deps), prefix: "/leads" });
  await app.register(crmIntegrationRoutes, { ...pickDeps(deps), prefix: "/crm-integration" });
};

/**
 * The platform API as one Fastify instance, composed of plugins: error contract, rate limit, metrics, OpenAPI docs,
 * JWT auth, health/readiness, /api/v1 routes and Bull Board. It does not listen (server.ts and apps/dev do) and it
 * does not own prisma, the queues or the connection: whoever passed them closes them.
 */
export function buildApiApp(options: BuildApiAppOptions): FastifyInstance {
  const { config, prisma, connection, logger } = options;
  const app = Fastify({
    loggerInstance: (logger ?? createLogger({ name: "api", level: config.logLevel })) as FastifyBaseLogger,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Bull Board shows every queue of the queue contract (each shard and lane); those the caller did not pass are opened
  // here, on crm-outbound's layout.
  const ownedQueues: Queue[] = [];
  const crmOutbound = asQueueGroup(options.queues.crmOutbound);
  const { layout } = crmOutbound;
  const crmChanges = options.queues.crmChanges ? asQueueGroup(options.queues.crmChanges) : createQueueGroup(QUEUES.crmChanges, { connection, layout, logger: app.log });
  if (!options.queues.crmChanges) ownedQueues.push(...crmChanges.queues);
  /** The given queues of a contract queue, plus every other shard and lane of the layout (workers consume them all). */
  const everyQueueOf = <Q extends QueueName>(name: Q, given: readonly TypedQueue<Q>[]): Queue[] => {
    const names = new Set(given.map((queue) => queue.name));
    const missing = layout.queuesOf(name).filter((physical) => !names.has(physical.name));
    const opened = missing.map((physical) => createQueue(name, { connection, prefix: layout.prefix, queueName: physical.name, logger: app.log }));
    ownedQueues.push(...opened);
    return [...given, ...opened];
  };
  const allQueues: Queue[] = [
    ...everyQueueOf(QUEUES.crmChanges, crmChanges.queues),
    ...everyQueueOf(QUEUES.crmOutbound, crmOutbound.queues),
    ...everyQueueOf(QUEUES.crmSync, []),
  ];
  const queues = { crmOutbound, crmChanges };
  const clients = options.clients ?? createIntegrationClients({ config, prisma, redis: connection, logger: app.log as unknown as Logger });
  const deps: ApiDeps = { config, prisma, connection, queues, clients };

  app.register(errorHandlerPlugin);
  app.register(fastifyRateLimit, {
    timeWindow: "1 minute",
    // The limit runs after /api/v1's authentication hook: `request.user` is set only by a verified JWT.
    keyGenerator: (request) => {
      const orgId = (request.user as PlatformClaims | null | undefined)?.orgId;
      return orgId ? `org:${orgId}` : `ip:${request.ip}`;
    },
    max: (_request, key) => (key.startsWith("org:") ? config.apiRateLimitPerMinute : ANONYMOUS_PER_IP_PER_MINUTE),
    allowList: (request) => isWebhookRequest(request.url),
  });
  // Docs first: the OpenAPI document lists only the routes registered after it.
  app.register(docsPlugin, { serverUrl: config.apiUrl });
  app.register(metricsPlugin, { queues: [...crmChanges.queues, ...crmOutbound.queues] });
  app.register(authPlugin, { jwtSecret: config.jwtSecret });
  app.register(healthRoutes, { prisma, connection });
  app.register(platformApi, { ...deps, prefix: "/api/v1" });
  // The CRM redirects a browser here with no JWT; the signed single-use state carries the org.
  app.register(oauthRoutes, { ...deps, prefix: "/api/v1/oauth" });
  // No operator login configured (production without BULL_BOARD_*): no dashboard at all.
  if (config.bullBoard) app.register(bullBoardPlugin, { credentials: config.bullBoard, queues: allQueues });

  app.addHook("onClose", async () => {
    await Promise.all(ownedQueues.map((queue) => queue.close()));
  });
  return app;
}
