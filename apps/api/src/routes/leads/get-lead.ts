import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { ApiDeps } from "../../deps.js";
import { NotFoundError } from "../../errors.js";
import { authErrors, bearerSecurity, successResponse } from "../../schemas.js";
import { leadIdParams, leadInclude, leadJson, toLeadJson } from "../../leads/lead-json.js";

const getLead: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma }) => {
  app.get(
    "/:id",
    {
      schema: {
        tags: ["leads"],
        summary: "One lead with its CRM links",
        security: bearerSecurity,
        params: leadIdParams,
        response: { 200: successResponse(leadJson), ...authErrors },
      },
    },
    async (request) => {
      const lead = await prisma.lead.findFirst({
        where: { id: request.params.id, orgId: request.user.orgId },
        include: leadInclude,
      });
      if (!lead) throw new NotFoundError("Lead");
      return { success: true as const, data: toLeadJson(lead) };
    },
  );
};

export default getLead;
