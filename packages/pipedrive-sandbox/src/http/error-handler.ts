import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { DEFAULT_ERROR_INFO, errorBody, PipedriveError } from "./errors.js";

/** Every error leaves the sandbox in Pipedrive's envelope. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof PipedriveError) return reply.code(error.statusCode).send(error.body());
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((issue) => `${issue.instancePath.replace(/^\//, "").replaceAll("/", ".") || "body"}: ${issue.message ?? "is invalid"}`);
      return reply.code(400).send(errorBody(`Validation failed: ${details.join("; ")}`, DEFAULT_ERROR_INFO, { errorCode: 400 }));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send(errorBody(error.message, DEFAULT_ERROR_INFO, { errorCode: status }));
    request.log.error({ err: error }, "sandbox route failed");
    return reply.code(500).send(errorBody("Internal server error", DEFAULT_ERROR_INFO, { errorCode: 500 }));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(`Unknown method: ${request.method} ${request.url.split("?")[0] ?? ""}`, DEFAULT_ERROR_INFO, { errorCode: 404 })),
  );
}
