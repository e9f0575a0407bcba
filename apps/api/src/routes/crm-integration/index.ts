import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { pickDeps, type ApiDeps } from "../../deps.js";
import { connectOAuth } from "../oauth/index.js";
import backfill from "./backfill.js";
import catchUp from "./catch-up.js";
import createIntegration from "./create-integration.js";
import enableWebhooks from "./enable-webhooks.js";
import getIntegration from "./get-integration.js";
import listIntegrations from "./list-integrations.js";
import updateIntegration from "./update-integration.js";
import webhookStatus from "./webhook-status.js";

/** /api/v1/crm-integration — one file per endpoint. */
const crmIntegrationRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  for (const route of [createIntegration, listIntegrations, getIntegration, updateIntegration, enableWebhooks, webhookStatus, backfill, catchUp, connectOAuth]) {
    await app.register(route, pickDeps(deps));
  }
};

export default crmIntegrationRoutes;
