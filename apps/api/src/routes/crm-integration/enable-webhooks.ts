import { fieldMappingOf, type FieldMapping } from "@leadsync/core";
import { enableWebhookSubscriptions, HubSpotApiError } from "@leadsync/hubspot";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { BadGatewayError, ConflictError, UnprocessableError } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse } from "../../schemas.js";
import { findOrgIntegration } from "../../services/integrations.js";
import { LIFECYCLE_EVENT_TYPES, requiredSubscriptions, watchedProperties, type StoredSubscription } from "../../services/webhook-subscriptions.js";
import { integrationIdParams } from "./integration-json.js";

const WEBHOOK_PATH = "/api/v1/webhooks/hubspot";

const subscriptionJson = z.object({
  id: z.string(),
  eventType: z.string(),
  propertyName: z.string().optional(),
  active: z.boolean(),
});

/** Private apps cannot manage subscriptions by API (hubspot-facts.md §3.2): say exactly what to set up by hand. */
function managedInHubSpotError(targetUrl: string, mapping: FieldMapping): ConflictError {
  const subscriptions = requiredSubscriptions(mapping);
  const list = subscriptions.map((s) => (s.propertyName ? `${s.eventType} (${s.propertyName})` : s.eventType)).join(", ");
  return new ConflictError(
    "webhooks_managed_in_hubspot",
    "This server has no HubSpot developer-app credentials (HUBSPOT_APP_ID and HUBSPOT_DEVELOPER_API_KEY), so webhooks " +
      "are configured in HubSpot: Settings → Integrations → Private Apps → your app → Webhooks. " +
      `Target URL: ${targetUrl}. Subscriptions: ${list}.`,
    { targetUrl, subscriptions },
  );
}

const enableWebhooks: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, config }) => {
  app.post(
    "/:integrationId/enable-webhooks",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Create (or find) the app's contact webhook subscriptions and point them at this server",
        security: bearerSecurity,
        params: integrationIdParams,
        // The body may be left out entirely (Fastify hands a missing body over as null).
        body: z.strictObject({ webhookUrl: z.url({ protocol: /^https?$/ }).optional() }).nullish(),
        response: {
          200: z.object({
            success: z.literal(true),
            data: z.object({ subscriptions: z.array(subscriptionJson), webhookUrl: z.string() }),
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
      const integration = await findOrgIntegration(prisma, request.user.orgId, request.params.integrationId);
      const targetUrl = request.body?.webhookUrl ?? `${config.apiUrl}${WEBHOOK_PATH}`;
      const { appId, developerApiKey, apiBase } = config.hubspot;
      const mapping = fieldMappingOf(integration);
      if (!appId || !developerApiKey) throw managedInHubSpotError(targetUrl, mapping);

      const created = await enableWebhookSubscriptions({
        basePath: apiBase,
        appId,
        developerApiKey,
        targetUrl,
        propertyNames: watchedProperties(mapping),
        eventTypes: LIFECYCLE_EVENT_TYPES,
      }).catch((err: unknown) => {
        if (err instanceof HubSpotApiError && err.status !== undefined && err.status < 500 && err.status !== 429) {
          throw new UnprocessableError("hubspot_rejected", `HubSpot refused the webhook subscriptions: ${err.message}`);
        }
        throw new BadGatewayError("hubspot_unavailable", `HubSpot could not be reached to manage webhooks: ${err instanceof Error ? err.message : "unknown error"}`);
      });
      const subscriptions: StoredSubscription[] = created.map((s) => ({
        id: String(s.id),
        eventType: s.eventType,
        ...(s.propertyName !== undefined && s.propertyName !== null && { propertyName: s.propertyName }),
        active: s.active,
      }));
      await prisma.crmIntegration.update({
        where: { id: integration.id },
        data: { webhooksEnabled: true, webhookUrl: targetUrl, webhookSubscriptions: subscriptions as object[] },
      });
      request.log.info({ integrationId: integration.id, subscriptions: subscriptions.length }, "webhooks enabled");
      return { success: true as const, data: { subscriptions, webhookUrl: targetUrl }, message: "Webhooks enabled successfully" };
    },
  );
};

export default enableWebhooks;
