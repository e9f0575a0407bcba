import { createLogger, DEV_CLIENT_SECRET, type Config } from "@leadsync/config";
import type { QUEUES, QueueGroup, TypedQueue } from "@leadsync/queue";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from "fastify";
import type { RedisClient } from "@leadsync/queue";
import { errorBody } from "./errors.js";
import receiverPlugin, { WEBHOOK_PATH_PREFIX } from "./receiver-plugin.js";

export interface BuildReceiverAppOptions {
  config: Config;
  queue: TypedQueue<typeof QUEUES.crmChanges> | QueueGroup<typeof QUEUES.crmChanges>;
  /** The queue's producer connection: /ready pings it. Whoever created it closes it. */
  connection: RedisClient;
  logger?: FastifyBaseLogger;
  enqueueTimeoutMs?: number;
}

/** A readiness probe that hangs would hang the orchestrator's check: bounded. */
const READY_TIMEOUT_MS = 1_000;
/** Slow clients cannot hold sockets open indefinitely; HubSpot itself gives up after 5 s. */
const REQUEST_TIMEOUT_MS = 10_000;

/** The development client secret is public: a production receiver must never accept signatures made with it. */
export function assertWebhookSecretUsable(config: Config): void {
  if (config.isProduction && config.hubspot.clientSecret === DEV_CLIENT_SECRET) {
    throw new Error("HUBSPOT_CLIENT_SECRET is the public development default; set the app's real client secret in production");
  }
}

/**
 * The receiver as one Fastify instance: the webhook plugin, GET /health and GET /ready (Redis). It does not listen
 * (server.ts does) and does not own the queue or the connection.
 */
export function buildReceiverApp(options: BuildReceiverAppOptions): FastifyInstance {
  const { config, queue, connection } = options;
  assertWebhookSecretUsable(config);
  const logger = options.logger ?? createLogger({ name: "receiver", level: config.logLevel });
  const app = Fastify({
    loggerInstance: logger,
    requestTimeout: REQUEST_TIMEOUT_MS,
    logController: new LogController({ disableRequestLogging: isWebhookPost }),
  });

  app.register(receiverPlugin, {
    queue,
    config,
    bodyLimitBytes: config.webhookBodyLimitBytes,
    waitReplicas: { count: config.redisWaitReplicas, timeoutMs: config.redisWaitTimeoutMs },
    ...(options.enqueueTimeoutMs === undefined ? {} : { enqueueTimeoutMs: options.enqueueTimeoutMs }),
  });

  app.get("/health", async () => ({ success: true, data: { status: "ok" } }));

  app.get("/ready", async (request, reply) => {
    const redis = await pingRedis(connection);
    if (redis === "up") return { success: true, data: { redis } };
    request.log.warn({ redis }, "not ready");
    return reply.code(503).send(errorBody("not_ready", `Not ready: Redis unreachable (${redis})`));
  });

  return app;
}

/**
 * Fastify's "incoming request" and "request completed" lines are skipped for webhook posts: the plugin logs one line
 * per batch ("webhook received" or "webhook rejected", with the request id), and at HubSpot's rates three lines
 * per request cost more than the rest of the logging. Other routes keep them.
 */
function isWebhookPost(request: FastifyRequest): boolean {
  return request.method === "POST" && request.routeOptions.url?.startsWith(WEBHOOK_PATH_PREFIX) === true;
}

/** "up", or why not: the connection state, or "timeout". */
async function pingRedis(connection: RedisClient): Promise<string> {
  // A producer connection fails fast while disconnected, but its state says why without a round trip.
  if (connection.status !== "ready") return connection.status;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("timeout"), READY_TIMEOUT_MS);
  });
  try {
    return await Promise.race([connection.ping().then(() => "up"), deadline]);
  } catch {
    return "error";
  } finally {
    clearTimeout(timer);
  }
}
