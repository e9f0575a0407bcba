import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { UnprocessableError } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse } from "../../schemas.js";
import { catchUpStatus, pushes, queueCatchUp } from "../../services/catch-up.js";
import { findOrgIntegration } from "../../services/org-integration.js";
import { integrationIdParams } from "./integration-json.js";

/** `POST /:integrationId/catch-up`: pushes the leads this integration never sent (services/catch-up.ts). */
const catchUp: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, connection, queues }) => {
  app.post(
    "/:integrationId/catch-up",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Push the org's leads this integration never sent (created while it did not push); a background job, progress in webhook-status",
        security: bearerSecurity,
        params: integrationIdParams,
        response: {
          202: z.object({ success: z.literal(true), data: z.object({ queued: z.number() }), message: z.string() }),
          ...authErrors,
          422: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const integration = await findOrgIntegration(prisma, request.user.orgId, request.params.integrationId);
      if (!pushes(integration)) {
        throw new UnprocessableError("outbound_sync_off", "This integration does not push leads (inactive, auto-sync off, or direction from_crm): switch it to to_crm or bidirectional first");
      }
      const deps = { prisma, connection, queue: queues.crmOutbound };
      const { queued } = await queueCatchUp(deps, { id: integration.id, orgId: request.user.orgId });
      request.log.info({ integrationId: integration.id, queued }, "catch-up push queued");
      const status = await catchUpStatus(deps, { id: integration.id, orgId: request.user.orgId });
      return reply.code(202).send({ success: true as const, data: { queued }, message: `${queued} lead(s) queued; ${status.unsent} still to send (see webhook-status)` });
    },
  );
};

export default catchUp;
