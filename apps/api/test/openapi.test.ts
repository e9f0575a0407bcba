import { Validator } from "@seriousme/openapi-schema-validator";
import { createQueue, QUEUES } from "@leadsync/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiverPlugin } from "../../receiver/src/index.js";
import { startApi, type ApiHarness } from "./helpers.js";

interface Operation {
  summary?: string;
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, unknown> };
}

/** Routes that are not the API: the document itself, the docs UI and Bull Board's dashboard (pages, assets, its own API). */
const NOT_THE_API = [/^\/openapi\.json$/, /^\/docs(\/|$)/, /^\/admin\/queues(\/|$)/];

describe("the OpenAPI document", () => {
  let api: ApiHarness;
  const routes: { method: string; url: string }[] = [];
  beforeAll(async () => {
    // As `pnpm start` composes it: the API with the webhook receiver on the same port.
    api = await startApi({}, {
      beforeReady: async (app, { config, connection, prefix }) => {
        app.addHook("onRoute", (route) => {
          for (const method of [route.method].flat()) if (method !== "HEAD") routes.push({ method, url: route.url });
        });
        const queue = createQueue(QUEUES.crmChanges, { connection, prefix });
        app.addHook("onClose", () => queue.close());
        await app.register(receiverPlugin, { queue, config, bodyLimitBytes: config.webhookBodyLimitBytes });
      },
    });
  });
  afterAll(() => api?.close());

  async function document(): Promise<OpenApiDocument> {
    const res = await api.app.inject("/openapi.json");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/application\/json/);
    return res.json() as OpenApiDocument;
  }

  it("is served at /openapi.json and is a valid OpenAPI document (checked by an OpenAPI validator)", async () => {
    const spec = await document();
    const validator = new Validator();
    const result = await validator.validate(spec as unknown as Parameters<Validator["validate"]>[0]);
    expect(JSON.stringify(result.errors ?? [], null, 1).slice(0, 3000)).toBe("[]");
    expect(result.valid).toBe(true);
    // The UI stays at /docs.
    expect((await api.app.inject("/docs/")).statusCode).toBe(200);
  });

  it("lists every registered route, each with a summary", async () => {
    const spec = await document();
    const apiRoutes = routes.filter((r) => !NOT_THE_API.some((pattern) => pattern.test(r.url)));
    expect(apiRoutes.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const { method, url } of apiRoutes) {
      const path = url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      const operation = spec.paths[path]?.[method.toLowerCase()];
      if (!operation) missing.push(`${method} ${url}: not in the document`);
      else if (!operation.summary?.trim()) missing.push(`${method} ${url}: no summary`);
    }
    expect(missing).toEqual([]);
  });

  it("holds the shared schemas (lead, integration, error envelope) in components, referenced by the routes", async () => {
    const spec = await document();
    expect(Object.keys(spec.components.schemas ?? {})).toEqual(expect.arrayContaining(["Lead", "Integration", "ErrorEnvelope"]));
    const text = JSON.stringify(spec.paths);
    for (const name of ["Lead", "Integration", "ErrorEnvelope"]) expect(text).toContain(`"#/components/schemas/${name}"`);
  });
});
