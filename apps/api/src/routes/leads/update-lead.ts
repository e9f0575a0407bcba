import { normalizeEmail, type LeadField } from "@leadsync/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { ConflictError, isUniqueViolation, NotFoundError } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse, successResponse } from "../../schemas.js";
import { enqueueOutboundSync } from "../../services/outbound.js";
import { blankToNull, stampFieldVersions } from "../../leads/field-versions.js";
import { leadEmail, leadIdParams, leadInclude, leadJson, leadWritableFields, toLeadJson } from "../../leads/lead-json.js";

const updateLeadBody = z.strictObject({ email: leadEmail.optional(), ...leadWritableFields });

const updateLead: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, queues }) => {
  app.patch(
    "/:id",
    {
      schema: {
        tags: ["leads"],
        summary: "Change some of a lead's fields (null clears one); the change is pushed like a new lead",
        security: bearerSecurity,
        params: leadIdParams,
        body: updateLeadBody,
        response: { 200: successResponse(leadJson), ...authErrors, 409: errorResponse },
      },
    },
    async (request) => {
      const where = { id: request.params.id, orgId: request.user.orgId };
      const lead = await prisma.lead.findFirst({ where, include: leadInclude });
      if (!lead) throw new NotFoundError("Lead");

      const { email, ...fields } = request.body;
      const requested: Partial<Record<LeadField, string | null>> = {};
      if (email !== undefined) requested.email = normalizeEmail(email);
      for (const [field, value] of Object.entries(fields) as [Exclude<LeadField, "email">, string | null | undefined][]) {
        const normalized = blankToNull(value);
        if (normalized !== undefined) requested[field] = normalized;
      }
      const changed = (Object.keys(requested) as LeadField[]).filter((field) => requested[field] !== lead[field]);
      if (changed.length === 0) return { success: true as const, data: toLeadJson(lead) };

      const updated = await prisma.lead
        .update({
          where: { id: lead.id },
          data: {
            ...Object.fromEntries(changed.map((field) => [field, requested[field]])),
            fieldVersions: stampFieldVersions(lead.fieldVersions, changed, Date.now()),
          },
          include: leadInclude,
        })
        .catch((err: unknown) => {
          if (isUniqueViolation(err)) throw new ConflictError("lead_exists", `A lead with email ${requested.email} already exists`);
          throw err;
        });
      await enqueueOutboundSync({ prisma, queue: queues.crmOutbound, log: request.log }, updated, "updated");
      return { success: true as const, data: toLeadJson(updated) };
    },
  );
};

export default updateLead;
