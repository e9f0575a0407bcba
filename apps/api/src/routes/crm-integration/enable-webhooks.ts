import { webhookSecretFor } from "@leadsync/providers";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { authErrors, bearerSecurity, errorResponse } from "../../schemas.js";
import { findOrgIntegration } from "../../services/org-integration.js";
import type { StoredSubscription } from "../../services/webhook-subscriptions.js";
import { integrationIdParams } from "./integration-json.js";

const subscriptionJson = z.object({
  id: z.string(),
  eventType: z.string(),
  propertyName: z.string().optional(),
  active: z.boolean(),
});

/**
 * Turns on the integration's real-time change feed through its provider: HubSpot webhook subscriptions, Salesforce
 * Change Data Capture, a Zoho notification channel, Pipedrive webhooks. `webhookUrl` defaults to this server's
 * `/api/v1/webhooks/<provider>`; a pulled feed (Salesforce) needs none.
 */
const enableWebhooks: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, config, clients }) => {
  app.post(
    "/:integrationId/enable-webhooks",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Turn on the CRM's real-time change feed (webhook subscriptions, CDC, notification channel) pointed at this server",
        security: bearerSecurity,
        params: integrationIdParams,
        // The body may be left out entirely (Fastify hands a missing body over as null).
        body: z.strictObject({ webhookUrl: z.url({ protocol: /^https?$/ }).optional() }).nullish(),
        response: {
          200: z.object({
            success: z.literal(true),
            data: z.object({ subscriptions: z.array(subscriptionJson), webhookUrl: z.string().nullable() }),
            message: z.string(),
          }),
          ...authErrors,
          409: errorResponse,
          422: errorResponse,
          502: errorResponse,
        },
      },
    },
    async (request) => {
      const found = await findOrgIntegration(prisma, request.user.orgId, request.params.integrationId);
      const integration = await prisma.crmIntegration.findUniqueOrThrow({ where: { id: found.id } });
      const module = clients.moduleOf(integration);
      const targetUrl = module.webhook ? (request.body?.webhookUrl ?? `${config.apiUrl}/api/v1/webhooks/${module.name}`) : null;
      const feed = await module.enableChangeFeed(clients.contextFor(integration), {
        webhookUrl: targetUrl,
        webhookSecret: webhookSecretFor(config, integration.id),
      });
      const subscriptions: StoredSubscription[] = feed.subscriptions;
      const settings = (typeof integration.settings === "object" && integration.settings !== null ? integration.settings : {}) as Record<string, unknown>;
      const state = (typeof settings["provider"] === "object" && settings["provider"] !== null ? settings["provider"] : {}) as Record<string, unknown>;
      await prisma.crmIntegration.update({
        where: { id: integration.id },
        data: {
          webhooksEnabled: true,
          webhookUrl: feed.webhookUrl,
          webhookSubscriptions: subscriptions as object[],
          settings: { ...settings, provider: { ...state, ...feed.state, feedRenewAt: feed.renewAt ?? null } } as object,
        },
      });
      request.log.info({ integrationId: integration.id, provider: module.name, subscriptions: subscriptions.length }, "webhooks enabled");
      return { success: true as const, data: { subscriptions, webhookUrl: feed.webhookUrl }, message: "Webhooks enabled successfully" };
    },
  );
};

export default enableWebhooks;
