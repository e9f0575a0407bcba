import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { checkBatchSize, ContactService } from "../crm/contact-service.js";
import { toPublicObject } from "../crm/serialize.js";
import { portalOf } from "../http/api-guard.js";
import { HubSpotError, validationError } from "../http/errors.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { batchResponse, booleanQuery, propertyValues } from "./schemas.js";

const BASE = "/crm/v3/objects/contacts/batch";

function notFoundError(ids: string[]): Record<string, unknown> {
  return {
    status: "error",
    category: "OBJECT_NOT_FOUND",
    message: "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
    context: { ids },
    errors: [],
  };
}

/** A failed input of a multi-status batch create: HubSpot's `StandardError`, identified by `context.objectWriteTraceId`. */
function perInputError(error: HubSpotError, objectWriteTraceId: string): Record<string, unknown> {
  const { context, errors, subCategory } = error.extra as { context?: Record<string, unknown>; errors?: unknown[]; subCategory?: string };
  return {
    status: "error",
    category: error.category,
    message: error.message,
    context: { ...context, objectWriteTraceId: [objectWriteTraceId] },
    errors: errors ?? [],
    ...(subCategory !== undefined && { subCategory }),
  };
}

/**
 * CRM v3 contacts batch API: read, create, update, upsert, archive — ≤100 inputs; missing ids answer 207, and so do
 * creates that fail per input when every input carries an `objectWriteTraceId` (multi-status mode).
 */
export const contactsBatchRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  const service = (request: Parameters<typeof portalOf>[0]) => new ContactService(state, portalOf(request), state.integrationSource());

  app.post(
    `${BASE}/read`,
    {
      schema: {
        querystring: z.object({ archived: booleanQuery }),
        body: z.object({
          inputs: z.array(z.object({ id: z.string() })),
          properties: z.array(z.string()).default([]),
          propertiesWithHistory: z.array(z.string()).optional(),
          idProperty: z.string().optional(),
        }),
      },
    },
    async (request, reply) => {
      const startedAt = new Date();
      const { inputs, properties, idProperty } = request.body;
      checkBatchSize(inputs);
      const contacts = service(request);
      const results: Record<string, unknown>[] = [];
      const missing: string[] = [];
      const seen = new Set<string>();
      for (const { id } of inputs) {
        const record = contacts.find(id, idProperty, request.query.archived);
        if (!record || record.archived !== request.query.archived) missing.push(id);
        else if (!seen.has(record.id)) {
          seen.add(record.id); // HubSpot answers each record once however often it is asked for
          results.push(toPublicObject(record, properties));
        }
      }
      const errors = missing.length > 0 ? [notFoundError(missing)] : [];
      return reply.code(errors.length > 0 ? 207 : 200).send(batchResponse(results, startedAt, errors));
    },
  );

  app.post(
    `${BASE}/create`,
    {
      schema: {
        body: z.object({
          inputs: z.array(z.object({ properties: propertyValues, associations: z.array(z.unknown()).optional(), objectWriteTraceId: z.string().optional() })),
        }),
      },
    },
    async (request, reply) => {
      const startedAt = new Date();
      const inputs = request.body.inputs;
      const traced = inputs.length > 0 && inputs.every((i) => i.objectWriteTraceId !== undefined);
      // Without a trace id on every input the batch is all or nothing (the first conflict fails it with 409).
      const outcomes = traced ? service(request).createEach(inputs.map((i) => i.properties)) : service(request).createMany(inputs.map((i) => i.properties));
      const results: Record<string, unknown>[] = [];
      const errors: Record<string, unknown>[] = [];
      outcomes.forEach((outcome, index) => {
        const input = inputs[index];
        if (outcome instanceof HubSpotError) {
          errors.push(perInputError(outcome, input?.objectWriteTraceId ?? ""));
          return;
        }
        results.push({
          ...toPublicObject(outcome, Object.keys(input?.properties ?? {})),
          ...(input?.objectWriteTraceId !== undefined && { objectWriteTraceId: input.objectWriteTraceId }),
        });
      });
      return reply.code(errors.length > 0 ? 207 : 201).send(batchResponse(results, startedAt, errors));
    },
  );

  app.post(
    `${BASE}/update`,
    {
      schema: {
        body: z.object({
          inputs: z.array(z.object({ id: z.string(), properties: propertyValues, idProperty: z.string().optional(), objectWriteTraceId: z.string().optional() })),
        }),
      },
    },
    async (request, reply) => {
      const startedAt = new Date();
      const { results, missing } = service(request).updateMany(request.body.inputs);
      const written = new Set(request.body.inputs.flatMap((i) => Object.keys(i.properties)));
      const errors = missing.length > 0 ? [notFoundError(missing)] : [];
      return reply.code(errors.length > 0 ? 207 : 200).send(batchResponse(results.map((r) => toPublicObject(r, [...written])), startedAt, errors));
    },
  );

  app.post(
    `${BASE}/upsert`,
    {
      schema: {
        body: z.object({
          inputs: z.array(z.object({ id: z.string(), idProperty: z.string(), properties: propertyValues, objectWriteTraceId: z.string().optional() })),
        }),
      },
    },
    async (request) => {
      const startedAt = new Date();
      const inputs = request.body.inputs;
      const other = inputs.find((i) => i.idProperty !== "email");
      if (other) throw validationError(`Upsert by ${other.idProperty} is not supported by the sandbox; use idProperty "email".`);
      const outcomes = service(request).upsertByEmail(inputs);
      const written = new Set(inputs.flatMap((i) => Object.keys(i.properties)));
      return batchResponse(
        outcomes.map(({ record, created }) => ({ ...toPublicObject(record, [...written, "email"]), new: created })),
        startedAt,
      );
    },
  );

  app.post(
    `${BASE}/archive`,
    { schema: { body: z.object({ inputs: z.array(z.object({ id: z.string() })) }) } },
    async (request, reply) => {
      checkBatchSize(request.body.inputs);
      const contacts = service(request);
      for (const { id } of request.body.inputs) {
        const record = contacts.find(id);
        if (record) contacts.archive(record);
      }
      return reply.code(204).send();
    },
  );
};
