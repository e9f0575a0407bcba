import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { ApiDeps } from "../../deps.js";
import { authErrors, bearerSecurity, successResponse } from "../../schemas.js";
import { findOrgIntegration } from "../../services/org-integration.js";
import { integrationIdParams, integrationJson, toIntegrationJson } from "./integration-json.js";

const getIntegration: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma }) => {
  app.get(
    "/:integrationId",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "One CRM integration (never its tokens)",
        security: bearerSecurity,
        params: integrationIdParams,
        response: { 200: successResponse(integrationJson), ...authErrors },
      },
    },
    async (request) => {
      const integration = await findOrgIntegration(prisma, request.user.orgId, request.params.integrationId);
      return { success: true as const, data: toIntegrationJson(integration) };
    },
  );
};

export default getIntegration;
