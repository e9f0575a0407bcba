import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from "fastify-type-provider-zod";
import { apiSchemaRegistry, fallbackSummary } from "../openapi-components.js";

/** Where the OpenAPI document is served as JSON (the UI stays at /docs). */
export const OPENAPI_PATH = "/openapi.json";

const transformRoute = createJsonSchemaTransform({ schemaRegistry: apiSchemaRegistry });

/**
 * A querystring that is an open map (z.record: any parameter name) has no named parameters to document, and
 * @fastify/swagger would turn its JSON Schema keywords into bogus parameters (`type`, `propertyNames`, …).
 */
function withoutOpenQuerystring<T extends { schema: unknown }>(out: T): T {
  const schema = out.schema as { querystring?: { properties?: unknown } } | undefined;
  if (!schema?.querystring || schema.querystring.properties !== undefined) return out;
  const { querystring: _open, ...rest } = schema;
  return { ...out, schema: rest };
}

/**
 * OpenAPI from the routes' zod schemas: the JSON at /openapi.json, the UI at /docs; shared schemas (Lead, Integration,
 * ErrorEnvelope) in `components.schemas`. Must be registered before the routes it documents.
 */
async function docsPlugin(app: FastifyInstance, opts: { serverUrl: string }) {
  await app.register(fastifySwagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, which is what zod emits for nullable fields (type: [..., "null"]).
      openapi: "3.1.0",
      info: { title: "LeadSync platform API", version: "1.0.0", description: "Leads and CRM integrations of the jazzaam platform." },
      servers: [{ url: opts.serverUrl }],
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
    },
    transform: (input) => {
      const out = withoutOpenQuerystring(transformRoute(input));
      const schema = out.schema as { summary?: string };
      const method = Array.isArray(input.route.method) ? String(input.route.method[0]) : String(input.route.method);
      const summary = schema.summary ?? fallbackSummary(method, out.url);
      return summary === undefined ? out : { ...out, schema: { ...out.schema, summary } };
    },
    transformObject: createJsonSchemaTransformObject({ schemaRegistry: apiSchemaRegistry }),
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}

export default fp(docsPlugin, { name: "leadsync-docs", fastify: "5.x" });
