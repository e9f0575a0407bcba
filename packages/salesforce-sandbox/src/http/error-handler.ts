import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { SalesforceError, SalesforceErrors } from "./errors.js";

/** Every error leaves the sandbox as Salesforce's REST error array. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof SalesforceError) return reply.code(error.statusCode).send(error.body());
    if (error instanceof SalesforceErrors) return reply.code(error.statusCode).send(error.items);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const message = error.validation.map((issue) => `${issue.instancePath || "/"} ${issue.message ?? "is invalid"}`.trim()).join("; ");
      return reply.code(400).send([{ message, errorCode: "INVALID_INPUT" }]);
    }
    if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY" || error instanceof SyntaxError || error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
      return reply.code(400).send([{ message: `Unexpected character: ${error.message}`, errorCode: "JSON_PARSER_ERROR" }]);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send([{ message: error.message, errorCode: "INVALID_INPUT" }]);
    request.log.error({ err: error }, "sandbox route failed");
    return reply.code(500).send([{ message: "An unexpected error occurred. Please include this ErrorId if you contact support: 0000-0000 (0)", errorCode: "UNKNOWN_EXCEPTION" }]);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send([{ message: "The requested resource does not exist", errorCode: "NOT_FOUND" }]));
}
