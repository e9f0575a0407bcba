import { normalizeEmail, type LeadField } from "@leadsync/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { ConflictError, isForeignKeyViolation, isUniqueViolation } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse, successResponse } from "../../schemas.js";
import { forgetDefaultForm, resolveLeadForm } from "../../services/forms.js";
import { enqueueOutboundSync } from "../../services/outbound.js";
import { blankToNull, stampFieldVersions } from "../../leads/field-versions.js";
import { insertLead } from "../../leads/insert-lead.js";
import { leadEmail, leadJson, leadWritableFields, toLeadJson } from "../../leads/lead-json.js";

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
      const newLead = async () => ({
        orgId,
        formId: await resolveLeadForm(prisma, orgId, formId),
        email: normalizeEmail(email),
        ...values,
        source: config.leadSourceMarker,
        fieldVersions: stampFieldVersions({}, setFields as LeadField[], Date.now()),
      });
      // One INSERT … RETURNING: a new lead has no CRM links to load, so no transaction and no second query.
      const row = await insertLead(prisma, await newLead())
        .catch(async (err: unknown) => {
          // The org's remembered default form is gone (deleted meanwhile): look it up again, once.
          if (!isForeignKeyViolation(err) || formId !== undefined) throw err;
          forgetDefaultForm(prisma, orgId);
          return insertLead(prisma, await newLead());
        })
        .catch((err: unknown) => {
          if (isUniqueViolation(err)) throw new ConflictError("lead_exists", `A lead with email ${normalizeEmail(email)} already exists`);
          throw err;
        });
      const lead = { ...row, orgId, links: [] };
      await enqueueOutboundSync({ prisma, queue: queues.crmOutbound, log: request.log }, lead, "created");
      return reply.status(201).send({ success: true as const, data: toLeadJson(lead) });
    },
  );
};

export default createLead;
