import type { Config } from "@leadsync/config";
import type { CrmProviderModule, VerifiedWebhook } from "@leadsync/core";
import { providerEnvironment, pushedFeedProviders, webhookSecretFor } from "@leadsync/providers";
import { addSerialized, asQueueGroup, waitForReplicas, type QUEUES, type QueueGroup, type RedisClient, type TypedQueue } from "@leadsync/queue";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { errorBody, errorResponse, successResponse, toWebhookError, WebhookError } from "./errors.js";
import { webhookMetrics } from "./metrics.js";
import { changesJob, changesJobId, changesJobJson } from "./webhook-job.js";

/** Every pushed feed posts to `/api/v1/webhooks/<provider>`. */
export const WEBHOOK_PATH_PREFIX = "/api/v1/webhooks/";
export const webhookPath = (provider: string) => `${WEBHOOK_PATH_PREFIX}${provider}`;
/** HubSpot's route (the setup guide's URL). */
export const HUBSPOT_WEBHOOK_PATH = webhookPath("hubspot");

/** HubSpot gives up after 5 s; past this the queue is treated as unavailable and the CRM is told to retry (503). */
export const DEFAULT_ENQUEUE_TIMEOUT_MS = 2_000;

export interface ReceiverPluginOptions {
  /** The `crm-changes` queue (its shards and lanes, or one queue), on a producer connection (fails fast while Redis is down). */
  queue: TypedQueue<typeof QUEUES.crmChanges> | QueueGroup<typeof QUEUES.crmChanges>;
  /**
   * Replicas that must hold a delivery's job before it is answered 2xx (REDIS_WAIT_REPLICAS): with 1, a master that
   * fails over right after the answer still has the job on the replica that replaces it. Default 0.
   */
  waitReplicas?: { count: number; timeoutMs: number };
  /** The providers' secrets and URLs, API_URL (the signed URI is rebuilt from it) and the server key for per-integration secrets. */
  config: Pick<Config, "apiUrl" | "encryptionKey" | "leadSourceMarker" | "hubspot" | "providers">;
  /** Bodies above this answer 413. */
  bodyLimitBytes: number;
  /** Defaults to the Fastify request logger. */
  logger?: FastifyBaseLogger;
  enqueueTimeoutMs?: number;
}

const errorResponses = { 400: errorResponse, 401: errorResponse, 413: errorResponse, 415: errorResponse, 500: errorResponse, 503: errorResponse };

const STATUS_OF_REJECTION = { auth: 401, malformed: 400 } as const;

/**
 * POST /api/v1/webhooks/<provider> for every provider whose feed is pushed: the provider's verifier checks the raw
 * bytes (signature, Basic credentials, channel token), the events are queued as one job, and the answer is 200 only
 * once Redis has it. GET answers 200 (reachability checks). The receiver never touches Postgres.
 * The routes live in an encapsulated child scope: its raw-body JSON parser and error contract stay out of the
 * parent app (the API registers this plugin beside its own routes).
 */
async function receiverPlugin(fastify: FastifyInstance, options: ReceiverPluginOptions): Promise<void> {
  await fastify.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);

    // Signatures cover the exact bytes, so the body stays a Buffer; JSON.parse happens after verification.
    scope.removeAllContentTypeParsers();
    for (const type of ["application/json", "application/x-www-form-urlencoded"]) {
      scope.addContentTypeParser(type, { parseAs: "buffer", bodyLimit: options.bodyLimitBytes }, (_request, body, done) => done(null, body));
    }

    scope.setErrorHandler((error, request, reply) => {
      const rejection = toWebhookError(error);
      if (rejection.statusCode >= 500 && rejection.code === "internal_error") {
        loggerFor(request, options).error({ err: error }, "webhook handling failed");
      }
      return sendRejection(request, reply, rejection, options);
    });

    const app = scope.withTypeProvider<ZodTypeProvider>();
    const queues = asQueueGroup(options.queue);
    for (const module of pushedFeedProviders()) registerProviderRoutes(app, module, options, queues);
  });
}

type ChangeQueues = QueueGroup<typeof QUEUES.crmChanges>;

function registerProviderRoutes(app: FastifyInstance, module: CrmProviderModule, options: ReceiverPluginOptions, queues: ChangeQueues): void {
  const verifier = module.webhook;
  if (!verifier) return;
  const path = webhookPath(module.name);
  const context = {
    env: providerEnvironment(options.config as Config, module.name),
    deriveSecret: (integrationId: string) => webhookSecretFor(options.config, integrationId),
    publicBaseUrl: options.config.apiUrl,
  };

  app.get(path, { schema: { response: { 200: successResponse } } }, async () => ({ success: true as const }));

  app.post(path, { bodyLimit: options.bodyLimitBytes, schema: { response: { 200: successResponse, ...errorResponses } } }, async (request) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verdict = verifier.verify({ method: request.method, url: request.url, headers: request.headers, rawBody }, context);
    if (!verdict.ok) {
      if (verdict.status === "ignore") {
        loggerFor(request, options).info({ provider: module.name, reason: verdict.reason }, "webhook ignored");
        return { success: true as const };
      }
      const code = verdict.code ?? (verdict.status === "auth" ? "unauthorized" : "invalid_body");
      throw new WebhookError(STATUS_OF_REJECTION[verdict.status], code, verdict.message, verdict.reason);
    }
    await queueVerified(request, module, verdict, options, queues);
    return { success: true as const };
  });
}

async function queueVerified(request: FastifyRequest, module: CrmProviderModule, verdict: VerifiedWebhook, options: ReceiverPluginOptions, queues: ChangeQueues) {
  const receivedAt = Date.now();
  const jobId = verdict.jobId ?? changesJobId(module.name, verdict.events);
  const payload = changesJob(module.name, verdict, receivedAt);
  // Not enqueue(): the payload's one variable part, the events, was verified just above. Where the body is the events
  // array, the job stores the body's bytes rather than a re-serialisation of the parsed events.
  const json = verdict.eventsJson ? changesJobJson(module.name, verdict, receivedAt) : JSON.stringify(payload);
  // The delivery's first account picks its shard; a burst from that account goes to the shard's bulk lane.
  const queue = queues.routeWork(`${module.name}:${verdict.accounts[0] ?? ""}`, verdict.events.length);
  const queued = async () => {
    const job = await addSerialized(queue, payload, json, { jobId });
    const replicas = options.waitReplicas;
    // WAIT on the connection the job was written through (the queue's own), at the master of the queue's slot.
    if (replicas && replicas.count > 0) await waitForReplicas(queue.opts.connection as RedisClient, queue.toKey("wait"), replicas.count, replicas.timeoutMs);
    return job;
  };
  await withinTimeout(queued(), options.enqueueTimeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS).catch((err: unknown) => {
    loggerFor(request, options).warn({ err, jobId, queue: queue.name }, "could not queue webhook batch");
    throw new WebhookError(503, "queue_unavailable", "Queue unavailable, retry later");
  });

  webhookMetrics.received.inc({ provider: module.name });
  for (const [type, count] of Object.entries(verdict.types)) webhookMetrics.events.inc({ type }, count);
  loggerFor(request, options).info(
    { provider: module.name, jobId, queue: queue.name, count: verdict.events.length, accounts: verdict.accounts, types: Object.keys(verdict.types), ...verdict.logFields },
    "webhook received",
  );
}

/** Races the add against a deadline; a late failure of the losing add is swallowed (the 503 already went out). */
async function withinTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`enqueue timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function sendRejection(request: FastifyRequest, reply: FastifyReply, rejection: WebhookError, options: ReceiverPluginOptions) {
  webhookMetrics.rejected.inc({ reason: rejection.reason });
  loggerFor(request, options).warn({ statusCode: rejection.statusCode, code: rejection.code, reason: rejection.reason }, "webhook rejected");
  return reply.code(rejection.statusCode).send(errorBody(rejection.code, rejection.message));
}

function loggerFor(request: FastifyRequest, options: ReceiverPluginOptions): FastifyBaseLogger {
  return options.logger ? options.logger.child({ reqId: request.id }) : request.log;
}

export default fp(receiverPlugin, { name: "leadsync-webhook-receiver", fastify: "5.x" });
