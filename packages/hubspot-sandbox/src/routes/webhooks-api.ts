import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorBody, notFound } from "../http/errors.js";
import type { SandboxState } from "../state/sandbox-state.js";
import type { Subscription, WebhookSettings } from "../webhooks/app-webhooks.js";
import { batchResponse } from "./schemas.js";

const BASE = "/webhooks/v3/:appId";
const appParams = z.object({ appId: z.coerce.number().int() });
const subscriptionParams = z.object({ appId: z.coerce.number().int(), subscriptionId: z.coerce.number().int() });

function settingsJson(settings: WebhookSettings): Record<string, unknown> {
  return {
    targetUrl: settings.targetUrl,
    throttling: { maxConcurrentRequests: settings.maxConcurrentRequests },
    createdAt: new Date(settings.createdAt).toISOString(),
    updatedAt: new Date(settings.updatedAt).toISOString(),
  };
}

function subscriptionJson(subscription: Subscription): Record<string, unknown> {
  return {
    id: String(subscription.id),
    eventType: subscription.eventType,
    ...(subscription.propertyName !== undefined && { propertyName: subscription.propertyName }),
    active: subscription.active,
    createdAt: new Date(subscription.createdAt).toISOString(),
    updatedAt: new Date(subscription.updatedAt).toISOString(),
  };
}

/** Webhooks v3 API of the legacy public app (settings and subscriptions), authenticated with `?hapikey=`. */
export const webhooksApiRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.addHook("onRequest", async (request, reply) => {
    const hapikey = (request.query as Record<string, unknown>)["hapikey"];
    if (hapikey !== state.app.developerApiKey) {
      return reply.code(401).send(errorBody("INVALID_AUTHENTICATION", "The API key provided is invalid."));
    }
    const appId = Number((request.params as Record<string, unknown>)["appId"]);
    if (appId !== state.app.appId) return reply.code(404).send(errorBody("OBJECT_NOT_FOUND", `App ${appId} not found`));
    return undefined;
  });
  const webhooks = state.webhooks;

  app.get(`${BASE}/settings`, { schema: { params: appParams } }, async () => {
    if (!webhooks.settings) throw notFound("No webhook settings found for this app");
    return settingsJson(webhooks.settings);
  });

  app.put(
    `${BASE}/settings`,
    {
      schema: {
        params: appParams,
        body: z.object({
          targetUrl: z.string().url(),
          throttling: z.object({ maxConcurrentRequests: z.number().int(), period: z.string().optional() }),
        }),
      },
    },
    async (request) => settingsJson(webhooks.configure(request.body.targetUrl, request.body.throttling.maxConcurrentRequests)),
  );

  app.delete(`${BASE}/settings`, { schema: { params: appParams } }, async (_request, reply) => {
    webhooks.clear();
    return reply.code(204).send();
  });

  app.get(`${BASE}/subscriptions`, { schema: { params: appParams } }, async () => ({ results: webhooks.list().map(subscriptionJson) }));

  app.post(
    `${BASE}/subscriptions`,
    {
      schema: {
        params: appParams,
        body: z.object({
          eventType: z.string().min(1),
          propertyName: z.string().optional(),
          active: z.boolean().optional(),
          objectTypeId: z.string().optional(),
        }),
      },
    },
    async (request, reply) => reply.code(201).send(subscriptionJson(webhooks.create(request.body))),
  );

  app.post(
    `${BASE}/subscriptions/batch/update`,
    { schema: { params: appParams, body: z.object({ inputs: z.array(z.object({ id: z.coerce.number().int(), active: z.boolean() })) }) } },
    async (request, reply) => {
      const startedAt = new Date();
      const results: Record<string, unknown>[] = [];
      const missing: string[] = [];
      for (const { id, active } of request.body.inputs) {
        try {
          results.push(subscriptionJson(webhooks.setActive(id, active)));
        } catch {
          missing.push(String(id));
        }
      }
      const errors = missing.length > 0 ? [{ status: "error", category: "OBJECT_NOT_FOUND", message: "Subscriptions not found", context: { ids: missing }, errors: [] }] : [];
      return reply.code(errors.length > 0 ? 207 : 200).send(batchResponse(results, startedAt, errors));
    },
  );

  app.get(`${BASE}/subscriptions/:subscriptionId`, { schema: { params: subscriptionParams } }, async (request) =>
    subscriptionJson(webhooks.get(request.params.subscriptionId)),
  );

  app.patch(
    `${BASE}/subscriptions/:subscriptionId`,
    { schema: { params: subscriptionParams, body: z.object({ active: z.boolean() }) } },
    async (request) => subscriptionJson(webhooks.setActive(request.params.subscriptionId, request.body.active)),
  );

  app.delete(`${BASE}/subscriptions/:subscriptionId`, { schema: { params: subscriptionParams } }, async (request, reply) => {
    webhooks.remove(request.params.subscriptionId);
    return reply.code(204).send();
  });
};
