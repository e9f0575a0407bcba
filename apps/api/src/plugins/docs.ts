import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { jsonSchemaTransform } from "fastify-type-provider-zod";

/** OpenAPI from the routes' zod schemas, browsable at /docs. Must be registered before the routes it documents. */
async function docsPlugin(app: FastifyInstance, opts: { serverUrl: string }) {
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: "LeadSync platform API", version: "1.0.0", description: "Leads and CRM integrations of the jazzaam platform." },
      servers: [{ url: opts.serverUrl }],
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
}

export default fp(docsPlugin, { name: "leadsync-docs", fastify: "5.x" });
