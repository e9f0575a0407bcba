import { normalizeEmail, type LeadField } from "@leadsync/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { ConflictError, isUniqueViolation } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse, successResponse } from "../../schemas.js";
import { forgetDefaultForm, resolveLeadForm } from "../../services/forms.js";
import { enqueueOutboundSync } from "../../services/outbound.js";
import { blankToNull, stampFieldVersions } from "./field-versions.js";
import { leadColumnsSelect, leadEmail, leadJson, leadWritableFields, toLeadJson } from "./lead-json.js";

/** Prisma's "foreign key constraint failed" (P2003). */
const isForeignKeyViolation = (err: unknown) => typeof err === "object" && err !== null && (err as { code?: unknown }).code === "P2003";

const createLeadBody = z.strictObject({
  email: leadEmail,
  ...leadWritableFields,
  formId: z.uuid().optional(),
});

const createLead: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, config, queues }) => {
  app.post(
    "", // the collection itself: /api/v1/<resource>, no trailing slash
    {
      schema: {
        tags: ["leads"],
        summary: "Create a lead on the platform (pushed to the org's CRMs that sync to_crm or bidirectional)",
        security: bearerSecurity,
        body: createLeadBody,
        response: { 201: successResponse(leadJson), ...authErrors, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const { orgId } = request.user;
      const { email, formId, ...fields } = request.body;
      const values = {
        firstName: blankToNull(fields.firstName) ?? null,
        lastName: blankToNull(fields.lastName) ?? null,
        phone: blankToNull(fields.phone) ?? null,
        company: blankToNull(fields.company) ?? null,
        jobTitle: blankToNull(fields.jobTitle) ?? null,
      };
      const setFields = ["email", ...Object.keys(values).filter((k) => values[k as keyof typeof values] !== null)];
      // One INSERT … RETURNING: a new lead has no CRM links to load, so no transaction and no second query.
      const row = await prisma.lead
        .create({
          data: {
            orgId,
            formId: await resolveLeadForm(prisma, orgId, formId),
            email: normalizeEmail(email),
            ...values,
            source: config.leadSourceMarker,
            fieldVersions: stampFieldVersions({}, setFields as LeadField[], Date.now()),
          },
          select: leadColumnsSelect,
        })
        .catch((err: unknown) => {
          if (isUniqueViolation(err)) {
            throw new ConflictError("lead_exists", `A lead with email ${normalizeEmail(email)} already exists`);
          }
          // A remembered default form the database no longer has: the next lead looks it up again.
          if (isForeignKeyViolation(err) && formId === undefined) forgetDefaultForm(prisma, orgId);
          throw err;
        });
      const lead = { ...row, orgId, links: [] };
      await enqueueOutboundSync({ prisma, queue: queues.crmOutbound, log: request.log }, lead, "created");
      return reply.status(201).send({ success: true as const, data: toLeadJson(lead) });
    },
  );
};

export default createLead;
