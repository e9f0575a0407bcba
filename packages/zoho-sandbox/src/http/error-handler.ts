import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { envelope, ZohoError } from "./zoho-error.js";

/** Every error leaves in Zoho's envelope `{code, details, message, status:"error"}`. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ZohoError) return reply.code(error.statusCode).send(error.body());
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issue = error.validation[0];
      const path = issue?.instancePath.replace(/^\//, "").replaceAll("/", ".") ?? "";
      return reply.code(400).send(envelope("INVALID_DATA", issue?.message ?? "invalid data", { api_name: path || undefined, json_path: `$.${path}` }));
    }
    const status = error.statusCode ?? 500;
    if (status === 415 || status === 400) return reply.code(400).send(envelope("INVALID_DATA", error.message));
    if (status >= 400 && status < 500) return reply.code(status).send(envelope("INVALID_REQUEST", error.message));
    request.log.error({ err: error }, "sandbox route failed");
    return reply.code(500).send(envelope("INTERNAL_ERROR", "Internal Server Error"));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(envelope("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")),
  );
}
