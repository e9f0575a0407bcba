import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { errorBody, HubSpotError } from "./errors.js";

/** Every error leaves the sandbox in HubSpot's shape: `{status:"error", message, correlationId, category, ...}`. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HubSpotError) return reply.code(error.statusCode).send(error.body());
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = error.validation.map((issue) => ({
        message: `${issue.instancePath || "/"} ${issue.message ?? "is invalid"}`.trim(),
        code: "INVALID_INPUT",
        in: issue.instancePath.replace(/^\//, "").replaceAll("/", ".") || request.routeOptions.url,
      }));
      return reply.code(400).send(errorBody("VALIDATION_ERROR", `Invalid input JSON: ${errors.map((e) => e.message).join("; ")}`, { errors }));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send(errorBody("VALIDATION_ERROR", error.message));
    request.log.error({ err: error }, "sandbox route failed");
    return reply.code(500).send(errorBody("INTERNAL_ERROR", "internal error"));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody("OBJECT_NOT_FOUND", `No route for ${request.method} ${request.url.split("?")[0] ?? ""}`)),
  );
}
