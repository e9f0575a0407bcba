import { ProviderConnectError } from "@leadsync/core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { hasZodFastifySchemaValidationErrors, type ZodFastifySchemaValidationError } from "fastify-type-provider-zod";
import { AppError } from "../errors.js";

/** One line of a 400: which field is wrong, and why. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** zod issues → field names. A strict object reports unknown keys on its parent, so name each key instead. */
function fieldIssues(validation: ZodFastifySchemaValidationError[], location: string | undefined): FieldIssue[] {
  return validation.flatMap((issue): FieldIssue[] => {
    const path = issue.instancePath.replace(/^\//, "").replaceAll("/", ".");
    const prefix = path ? `${path}.` : "";
    const keys = (issue.params as { keys?: unknown }).keys;
    if (issue.keyword === "unrecognized_keys" && Array.isArray(keys)) {
      return keys.map((key) => ({ field: `${prefix}${String(key)}`, message: "unknown field" }));
    }
    return [{ field: path || (location ?? "request"), message: issue.message }];
  });
}

function send(reply: FastifyReply, statusCode: number, code: string, message: string, details?: unknown) {
  const error = details === undefined ? { code, message } : { code, message, details };
  return reply.status(statusCode).send({ success: false, error });
}

/** Codes for the 4xx errors Fastify and its plugins raise themselves (bad JSON, wrong media type, rate limit, …). */
function codeForStatus(statusCode: number): string {
  switch (statusCode) {
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    case 429:
      return "rate_limited";
    default:
      return "bad_request";
  }
}

async function errorHandlerPlugin(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = fieldIssues(error.validation, error.validationContext);
      request.log.info({ issues }, "request validation failed");
      const summary = issues.map((i) => `${i.field}: ${i.message}`).join("; ");
      return send(reply, 400, "validation_error", `Invalid request: ${summary}`, issues);
    }
    if (error instanceof ProviderConnectError) {
      // The CRM refused (or failed) while we connected or set up its feed: the provider says how to tell the caller.
      request.log.info({ code: error.code, statusCode: error.status }, error.message);
      return send(reply, error.status, error.code, error.message, error.details);
    }
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, "request failed");
      else request.log.info({ code: error.code, statusCode: error.statusCode }, error.message);
      return send(reply, error.statusCode, error.code, error.message, error.details);
    }
    const statusCode = typeof error.statusCode === "number" ? error.statusCode : 500;
    if (statusCode >= 400 && statusCode < 500) {
      request.log.info({ code: error.code, statusCode }, error.message);
      return send(reply, statusCode, codeForStatus(statusCode), error.message);
    }
    // Anything else is our bug or an infrastructure failure: log it fully, tell the caller nothing internal.
    request.log.error({ err: error }, "unhandled error");
    return send(reply, 500, "internal_error", "Internal server error");
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, "not_found", `Route ${request.method} ${request.url.split("?")[0]} not found`),
  );
}

export default fp(errorHandlerPlugin, { name: "leadsync-error-handler", fastify: "5.x" });
