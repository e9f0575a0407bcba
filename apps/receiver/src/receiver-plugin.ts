import { parseHubSpotEventBatch, type HubSpotEvent } from "@leadsync/core";
import { buildRequestUri, verifyHubSpotSignature, type SignatureRejection } from "@leadsync/hubspot";
import { addSerialized, type QUEUES, type TypedQueue } from "@leadsync/queue";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { z } from "zod";
import { errorBody, errorResponse, successResponse, toWebhookError, WebhookError } from "./errors.js";
import { webhookMetrics } from "./metrics.js";
import { hubspotBatchJobId, hubspotEventsJob, hubspotEventsJobJson } from "./webhook-job.js";

export const HUBSPOT_WEBHOOK_PATH = "/api/v1/webhooks/hubspot";

/** HubSpot gives up after 5 s; past this the queue is treated as unavailable and HubSpot is told to retry (503). */
export const DEFAULT_ENQUEUE_TIMEOUT_MS = 2_000;

export interface ReceiverPluginOptions {
  /** The `hubspot-events` queue, on a producer connection (fails fast while Redis is down). */
  queue: TypedQueue<typeof QUEUES.hubspotEvents>;
  /** The HubSpot app's client secret that signs webhooks. */
  clientSecret: string;
  /** The public base URL HubSpot calls (API_URL): the signed URI is rebuilt from it, not from the Host header. */
  apiUrl: string;
  /** Bodies above this answer 413. */
  bodyLimitBytes: number;
  /** Defaults to the Fastify request logger. */
  logger?: FastifyBaseLogger;
  enqueueTimeoutMs?: number;
}

const SIGNATURE_MESSAGES: Record<SignatureRejection, string> = {
  missing_signature: "Missing HubSpot signature",
  bad_signature: "Signature does not match",
  stale_timestamp: "Request timestamp is older than 5 minutes",
  future_timestamp: "Request timestamp is in the future",
  bad_timestamp: "Missing or malformed request timestamp",
  unsupported_version: "Unsupported signature version",
};

const errorResponses = { 400: errorResponse, 401: errorResponse, 413: errorResponse, 415: errorResponse, 500: errorResponse, 503: errorResponse };

/**
 * POST /api/v1/webhooks/hubspot: verify the signature over the raw bytes, validate the event batch, queue it as one
 * job, and answer 200 only once Redis has it. GET answers 200 (HubSpot's reachability check).
 * The routes live in an encapsulated child scope: its raw-body JSON parser and error contract stay out of the
 * parent app (the API registers this plugin beside its own routes).
 */
async function receiverPlugin(fastify: FastifyInstance, options: ReceiverPluginOptions): Promise<void> {
  await fastify.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);

    // The signature covers the exact bytes, so the body stays a Buffer; JSON.parse happens after verification.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("application/json", { parseAs: "buffer", bodyLimit: options.bodyLimitBytes }, (_request, body, done) =>
      done(null, body),
    );

    scope.setErrorHandler((error, request, reply) => {
      const rejection = toWebhookError(error);
      if (rejection.statusCode >= 500 && rejection.code === "internal_error") {
        loggerFor(request, options).error({ err: error }, "webhook handling failed");
      }
      return sendRejection(request, reply, rejection, options);
    });

    const app = scope.withTypeProvider<ZodTypeProvider>();

    app.get(HUBSPOT_WEBHOOK_PATH, { schema: { response: { 200: successResponse } } }, async () => ({ success: true as const }));

    app.post(
      HUBSPOT_WEBHOOK_PATH,
      { bodyLimit: options.bodyLimitBytes, schema: { response: { 200: successResponse, ...errorResponses } } },
      async (request) => {
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const signature = verifyHubSpotSignature({
          method: request.method,
          requestUri: buildRequestUri(options.apiUrl, request.url),
          rawBody,
          headers: request.headers,
          clientSecret: options.clientSecret,
        });
        if (!signature.ok) throw new WebhookError(401, "invalid_signature", SIGNATURE_MESSAGES[signature.reason], signature.reason);

        const { raw, events } = parseEventBatch(rawBody);
        const jobId = hubspotBatchJobId(events);
        const receivedAt = Date.now();
        // Not enqueue(): the payload's one variable part, the events, was validated just above. The job stores the
        // body's bytes rather than a re-serialisation of the parsed events.
        await withinTimeout(
          addSerialized(options.queue, hubspotEventsJob(raw, receivedAt), hubspotEventsJobJson(rawBody, receivedAt), { jobId }),
          options.enqueueTimeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS,
        ).catch((err: unknown) => {
          loggerFor(request, options).warn({ err, jobId }, "could not queue webhook batch");
          throw new WebhookError(503, "queue_unavailable", "Queue unavailable, retry later");
        });

        const summary = summarise(events);
        recordAccepted(summary);
        loggerFor(request, options).info(
          {
            jobId,
            count: events.length,
            portalIds: [...summary.portalIds],
            types: [...summary.countByType.keys()],
            signatureVersion: signature.version,
            maxAttemptNumber: summary.maxAttemptNumber,
          },
          "webhook received",
        );
        return { success: true as const };
      },
    );
  });
}

/** JSON.parse the verified bytes, then core's batch schema (1–100 HubSpot events; its fast path for plain batches). */
function parseEventBatch(rawBody: Buffer): { raw: Record<string, unknown>[]; events: HubSpotEvent[] } {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString("utf8"));
  } catch {
    throw new WebhookError(400, "invalid_body", "Body is not valid JSON", "invalid_json");
  }
  const parsed = parseHubSpotEventBatch(json);
  if (!parsed.success) throw new WebhookError(400, "invalid_body", summariseIssues(parsed.error), "invalid_events");
  // The schema accepted an array of objects, so the raw elements are records.
  return { raw: json as Record<string, unknown>[], events: parsed.data };
}

/** A few of zod's issues, "path: message", enough to debug a sender without echoing the whole body. */
function summariseIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 5).map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`);
  const more = error.issues.length > shown.length ? ` (+${error.issues.length - shown.length} more)` : "";
  return `Not a HubSpot event batch: ${shown.join("; ")}${more}`;
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

interface BatchSummary {
  portalIds: Set<string>;
  countByType: Map<string, number>;
  maxAttemptNumber: number;
}

/** What the metrics and the log line say about a batch, in one pass over its events. */
function summarise(events: readonly HubSpotEvent[]): BatchSummary {
  const summary: BatchSummary = { portalIds: new Set(), countByType: new Map(), maxAttemptNumber: 0 };
  for (const event of events) {
    summary.portalIds.add(event.portalId);
    summary.countByType.set(event.subscriptionType, (summary.countByType.get(event.subscriptionType) ?? 0) + 1);
    if (event.attemptNumber > summary.maxAttemptNumber) summary.maxAttemptNumber = event.attemptNumber;
  }
  return summary;
}

function recordAccepted(summary: BatchSummary): void {
  webhookMetrics.received.inc({ provider: "hubspot" });
  for (const [type, count] of summary.countByType) webhookMetrics.events.inc({ type }, count);
}

function sendRejection(request: FastifyRequest, reply: FastifyReply, rejection: WebhookError, options: ReceiverPluginOptions) {
  webhookMetrics.rejected.inc({ reason: rejection.reason });
  loggerFor(request, options).warn({ statusCode: rejection.statusCode, code: rejection.code, reason: rejection.reason }, "webhook rejected");
  return reply.code(rejection.statusCode).send(errorBody(rejection.code, rejection.message));
}

function loggerFor(request: FastifyRequest, options: ReceiverPluginOptions): FastifyBaseLogger {
  return options.logger ? options.logger.child({ reqId: request.id }) : request.log;
}

export default fp(receiverPlugin, { name: "leadsync-hubspot-webhook-receiver", fastify: "5.x" });
