import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { authErrors, bearerSecurity, successResponse } from "../../schemas.js";
import { findOrgIntegration } from "../../services/integrations.js";
import { integrationIdParams, integrationJson, integrationSelect, integrationSettingsInput, settingsToColumns, toIntegrationJson } from "./integration-json.js";

const updateIntegration: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma }) => {
  app.patch(
    "/:integrationId",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Change auto-sync and sync direction; omitted settings keep their value",
        security: bearerSecurity,
        params: integrationIdParams,
        body: z.strictObject({ settings: integrationSettingsInput }),
        response: { 200: successResponse(integrationJson), ...authErrors },
      },
    },
    async (request) => {
      const { id } = await findOrgIntegration(prisma, request.user.orgId, request.params.integrationId);
      const updated = await prisma.crmIntegration.update({
        where: { id },
        data: settingsToColumns(request.body.settings),
        select: integrationSelect,
      });
      return { success: true as const, data: toIntegrationJson(updated), message: "Integration settings updated" };
    },
  );
};

export default updateIntegration;
