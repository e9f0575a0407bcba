import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { authErrors, bearerSecurity, successResponse } from "../../schemas.js";
import { integrationJson, integrationSelect, toIntegrationJson } from "./integration-json.js";

const listIntegrations: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma }) => {
  app.get(
    "", // the collection itself: /api/v1/<resource>, no trailing slash
    {
      schema: {
        tags: ["crm-integration"],
        summary: "The organisation's CRM integrations",
        security: bearerSecurity,
        response: { 200: successResponse(z.array(integrationJson)), ...authErrors },
      },
    },
    async (request) => {
      const rows = await prisma.crmIntegration.findMany({
        where: { orgId: request.user.orgId },
        orderBy: { createdAt: "asc" },
        select: integrationSelect,
      });
      return { success: true as const, data: rows.map(toIntegrationJson) };
    },
  );
};

export default listIntegrations;
