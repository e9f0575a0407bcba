import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ContactService, MAX_BATCH_INPUTS } from "../crm/contact-service.js";
import { toPublicObject } from "../crm/serialize.js";
import { notFound } from "../http/errors.js";
import type { ContactRecord } from "../state/contacts.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { portalParams, requirePortal } from "./admin-portals.js";
import { propertyValues } from "./schemas.js";

const contactParams = z.object({ portalId: z.coerce.number().int(), contactId: z.string() });

/** Every property the record holds, plus the system ones: what tests assert on. */
function fullRecord(record: ContactRecord): Record<string, unknown> {
  return toPublicObject(record, [...record.properties.keys()]);
}

/**
 * Contacts changed "as a person would in HubSpot's UI": webhooks fire with changeSource CRM_UI. Reads return
 * every contact, archived included. None of this counts against the portal's API budget.
 */
export const adminContactRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  const ui = (portalId: number) => {
    const portal = requirePortal(state, portalId);
    return { portal, contacts: new ContactService(state, portal, state.uiSource(portal)) };
  };
  const existing = (portalId: number, contactId: string) => {
    const { portal, contacts } = ui(portalId);
    const record = portal.contacts.get(contactId);
    if (!record) throw notFound(`Contact ${contactId} not found`);
    return { record, contacts };
  };

  app.post(
    "/__sandbox/portals/:portalId/contacts",
    { schema: { params: portalParams, body: z.object({ contacts: z.array(z.object({ properties: propertyValues })) }) } },
    async (request, reply) => {
      const { contacts } = ui(request.params.portalId);
      const inputs = request.body.contacts.map((c) => c.properties);
      const ids: string[] = [];
      // the UI has no batch limit; the service validates in API-sized chunks
      for (let i = 0; i < inputs.length; i += MAX_BATCH_INPUTS) {
        ids.push(...contacts.createMany(inputs.slice(i, i + MAX_BATCH_INPUTS)).map((r) => r.id));
      }
      return reply.code(201).send({ ids });
    },
  );

  app.get("/__sandbox/portals/:portalId/contacts", { schema: { params: portalParams } }, async (request) => ({
    results: requirePortal(state, request.params.portalId).contacts.all().map(fullRecord),
  }));

  app.get("/__sandbox/portals/:portalId/contacts/:contactId", { schema: { params: contactParams } }, async (request) =>
    fullRecord(existing(request.params.portalId, request.params.contactId).record),
  );

  app.patch(
    "/__sandbox/portals/:portalId/contacts/:contactId",
    { schema: { params: contactParams, body: z.object({ properties: propertyValues }) } },
    async (request) => {
      const { record, contacts } = existing(request.params.portalId, request.params.contactId);
      if (record.archived) throw notFound(`Contact ${record.id} is archived`);
      return fullRecord(contacts.update(record, request.body.properties));
    },
  );

  app.delete("/__sandbox/portals/:portalId/contacts/:contactId", { schema: { params: contactParams } }, async (request, reply) => {
    const { record, contacts } = existing(request.params.portalId, request.params.contactId);
    contacts.archive(record);
    return reply.code(204).send();
  });

  app.post("/__sandbox/portals/:portalId/contacts/:contactId/restore", { schema: { params: contactParams } }, async (request) => {
    const { record, contacts } = existing(request.params.portalId, request.params.contactId);
    contacts.restore(record);
    return fullRecord(record);
  });

  app.post(
    "/__sandbox/portals/:portalId/contacts/:contactId/merge",
    { schema: { params: contactParams, body: z.object({ objectIdToMerge: z.string() }) } },
    async (request) => {
      const { record, contacts } = existing(request.params.portalId, request.params.contactId);
      return fullRecord(contacts.merge(contacts.require(record.id), contacts.require(request.body.objectIdToMerge)));
    },
  );

  app.post("/__sandbox/portals/:portalId/contacts/:contactId/privacy-delete", { schema: { params: contactParams } }, async (request, reply) => {
    const { record, contacts } = existing(request.params.portalId, request.params.contactId);
    contacts.privacyDelete(record);
    return reply.code(204).send();
  });
};
