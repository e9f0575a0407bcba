import { fieldMappingOf, fieldMappingProblem, LEAD_FIELDS } from "@leadsync/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { BadGatewayError, BadRequestError } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse, successResponse } from "../../schemas.js";
import { catchUpJson, countUnsentLeads, pushes } from "../../services/catch-up.js";
import { findOrgIntegration } from "../../services/org-integration.js";
import { integrationIdParams, integrationJson, integrationSelect, integrationSettingsInput, settingsToColumns, toIntegrationJson } from "./integration-json.js";

/** Answered when a change makes the integration push: the leads it never sent, and how to send them. */
const catchUpOffer = z.object({ unsent: catchUpJson.shape.unsent, route: z.string() });

const updateIntegration: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, clients }) => {
  app.patch(
    "/:integrationId",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Change auto-sync, sync direction, conflict rule, field mapping (checked against the portal) and deletion policy; omitted settings keep their value",
        security: bearerSecurity,
        params: integrationIdParams,
        body: z.strictObject({ settings: integrationSettingsInput }),
        response: { 200: successResponse(integrationJson).extend({ catchUp: catchUpOffer.optional() }), ...authErrors, 400: errorResponse, 502: errorResponse },
      },
    },
    async (request) => {
      const current = await findOrgIntegration(prisma, request.user.orgId, request.params.integrationId);
      const columns = settingsToColumns(request.body.settings, current.settings);

      if (request.body.settings.fieldMapping !== undefined) {
        const row = await prisma.crmIntegration.findUniqueOrThrow({ where: { id: current.id } });
        const module = clients.moduleOf(row);
        const client = clients.clientFor(row);
        const mapping = fieldMappingOf({ settings: columns.settings }, module.defaultFieldMapping);
        const problem = fieldMappingProblem(mapping, client.markerField);
        if (problem) throw new BadRequestError("invalid_field_mapping", problem);
        if (!row.accessTokenEnc) throw new BadRequestError("invalid_field_mapping", "The integration has no access token to check the mapping with");
        const known = new Set(
          await client.listFieldNames().catch((err: unknown) => {
            throw new BadGatewayError(`${module.name}_unavailable`, `${module.displayName}'s fields could not be read to check the field mapping: ${err instanceof Error ? err.message : "unknown error"}`);
          }),
        );
        const unknown = LEAD_FIELDS.filter((field) => !known.has(mapping[field]));
        if (unknown.length > 0) {
          const named = unknown.map((field) => `${mapping[field]} (${field})`).join(", ");
          throw new BadRequestError("unknown_property", `${module.displayName} account ${current.externalAccountId} has no contact property ${named}`, unknown.map((field) => ({ field: `settings.fieldMapping.${field}`, message: `unknown property ${mapping[field]}` })));
        }
      }

      const updated = await prisma.crmIntegration.update({ where: { id: current.id }, data: columns, select: integrationSelect });
      // Switched to pushing: leads created meanwhile were never sent. Say so, and how to send them.
      if (!pushes(current) && pushes(updated)) {
        const unsent = await countUnsentLeads(prisma, request.user.orgId, updated.id);
        if (unsent > 0) {
          const route = `POST /api/v1/crm-integration/${updated.id}/catch-up`;
          return {
            success: true as const,
            data: toIntegrationJson(updated),
            message: `Integration settings updated. ${unsent} lead(s) were never sent to this CRM; ${route} pushes them`,
            catchUp: { unsent, route },
          };
        }
      }
      return { success: true as const, data: toIntegrationJson(updated), message: "Integration settings updated" };
    },
  );
};

export default updateIntegration;
