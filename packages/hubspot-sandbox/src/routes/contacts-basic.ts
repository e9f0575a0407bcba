import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ContactService } from "../crm/contact-service.js";
import { parsePropertyList, toPublicObject } from "../crm/serialize.js";
import { portalOf } from "../http/api-guard.js";
import { notFound } from "../http/errors.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { booleanQuery, propertyListQuery, propertyValues } from "./schemas.js";

const BASE = "/crm/v3/objects/contacts";
const MAX_PAGE = 100;

/** CRM v3 contacts, one record at a time (list, get, create, update, archive, merge, GDPR delete). */
export const contactsBasicRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  const service = (request: Parameters<typeof portalOf>[0]) => new ContactService(state, portalOf(request), state.integrationSource());

  app.get(
    BASE,
    {
      schema: {
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(10),
          after: z.string().optional(),
          properties: propertyListQuery,
          archived: booleanQuery,
        }),
      },
    },
    async (request) => {
      const { limit, after, archived } = request.query;
      const contacts = portalOf(request)
        .contacts.all()
        .filter((c) => c.archived === archived && (after === undefined || Number(c.id) >= Number(after)));
      const page = contacts.slice(0, limit);
      const next = contacts[limit];
      const properties = parsePropertyList(request.query.properties);
      return {
        results: page.map((c) => toPublicObject(c, properties)),
        ...(next && { paging: { next: { after: next.id, link: `${BASE}?after=${next.id}` } } }),
      };
    },
  );

  app.get(
    `${BASE}/:contactId`,
    {
      schema: {
        params: z.object({ contactId: z.string() }),
        querystring: z.object({ properties: propertyListQuery, idProperty: z.string().optional(), archived: booleanQuery }),
      },
    },
    async (request) => {
      const { idProperty, archived } = request.query;
      const record = service(request).find(request.params.contactId, idProperty, archived);
      if (!record || record.archived !== archived) throw notFound();
      return toPublicObject(record, parsePropertyList(request.query.properties));
    },
  );

  app.post(
    BASE,
    { schema: { body: z.object({ properties: propertyValues, associations: z.array(z.unknown()).optional() }) } },
    async (request, reply) => {
      const record = service(request).create(request.body.properties);
      return reply.code(201).send(toPublicObject(record, Object.keys(request.body.properties)));
    },
  );

  app.patch(
    `${BASE}/:contactId`,
    {
      schema: {
        params: z.object({ contactId: z.string() }),
        querystring: z.object({ idProperty: z.string().optional() }),
        body: z.object({ properties: propertyValues }),
      },
    },
    async (request) => {
      const contacts = service(request);
      const record = contacts.update(contacts.require(request.params.contactId, request.query.idProperty), request.body.properties);
      return toPublicObject(record, Object.keys(request.body.properties));
    },
  );

  app.delete(`${BASE}/:contactId`, { schema: { params: z.object({ contactId: z.string() }) } }, async (request, reply) => {
    const contacts = service(request);
    const record = contacts.find(request.params.contactId);
    if (record) contacts.archive(record);
    return reply.code(204).send();
  });

  app.post(
    `${BASE}/merge`,
    { schema: { body: z.object({ primaryObjectId: z.string(), objectIdToMerge: z.string() }) } },
    async (request) => {
      const contacts = service(request);
      const primary = contacts.require(request.body.primaryObjectId);
      return toPublicObject(contacts.merge(primary, contacts.require(request.body.objectIdToMerge)));
    },
  );

  app.post(
    `${BASE}/gdpr-delete`,
    { schema: { body: z.object({ objectId: z.string(), idProperty: z.string().optional() }) } },
    async (request, reply) => {
      const contacts = service(request);
      contacts.privacyDelete(contacts.require(request.body.objectId, request.body.idProperty));
      return reply.code(204).send();
    },
  );
};
