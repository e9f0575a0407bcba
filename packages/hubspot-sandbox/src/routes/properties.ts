import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { portalOf } from "../http/api-guard.js";
import { notFound, validationError } from "../http/errors.js";
import { propertyNotFound, type PropertyDefinition } from "../state/properties.js";
import type { SandboxState } from "../state/sandbox-state.js";

const BASE = "/crm/v3/properties/:objectType";
const PROPERTY_TYPES = ["string", "number", "date", "datetime", "enumeration", "bool", "phone_number"] as const;
const FIELD_TYPES = ["text", "textarea", "select", "radio", "checkbox", "booleancheckbox", "date", "number", "file", "html", "phonenumber", "calculation_equation"] as const;

const option = z.object({
  label: z.string(),
  value: z.string(),
  hidden: z.boolean().optional(),
  displayOrder: z.number().int().optional(),
  description: z.string().optional(),
});

const propertyFields = {
  label: z.string().min(1),
  type: z.enum(PROPERTY_TYPES),
  fieldType: z.enum(FIELD_TYPES),
  groupName: z.string().min(1),
  description: z.string().optional(),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
  options: z.array(option).optional(),
};

const propertyCreate = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, "must start with a letter and contain only lowercase letters, digits and _"),
  hasUniqueValue: z.boolean().optional(),
  ...propertyFields,
});
const propertyUpdate = z.object(propertyFields).partial();

const objectParams = z.object({ objectType: z.string() });
const propertyParams = z.object({ objectType: z.string(), propertyName: z.string() });

/** The sandbox emulates contacts only: objectType `contacts` or `0-1`. */
function checkObjectType(objectType: string): void {
  if (objectType !== "contacts" && objectType !== "0-1" && objectType !== "contact") {
    throw notFound(`Unable to infer object type from: ${objectType}`);
  }
}

/** The `Property` JSON HubSpot returns; read-only-ness goes into modificationMetadata. */
export function toPropertyJson({ readOnlyValue, ...definition }: PropertyDefinition): Record<string, unknown> {
  return {
    ...definition,
    modificationMetadata: { archivable: !definition.hubspotDefined, readOnlyDefinition: definition.hubspotDefined, readOnlyValue },
  };
}

/** CRM v3 properties API for contacts: list, get (404), create (409 on an existing name), update, archive. */
export const propertiesRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app) => {
  app.get(BASE, { schema: { params: objectParams } }, async (request) => {
    checkObjectType(request.params.objectType);
    return { results: portalOf(request).properties.list().filter((p) => !p.archived).map(toPropertyJson) };
  });

  app.get(`${BASE}/:propertyName`, { schema: { params: propertyParams } }, async (request) => {
    checkObjectType(request.params.objectType);
    const property = portalOf(request).properties.get(request.params.propertyName);
    if (!property || property.archived) throw propertyNotFound(request.params.propertyName);
    return toPropertyJson(property);
  });

  app.post(BASE, { schema: { params: objectParams, body: propertyCreate } }, async (request, reply) => {
    checkObjectType(request.params.objectType);
    return reply.code(201).send(toPropertyJson(portalOf(request).properties.create(request.body)));
  });

  app.patch(`${BASE}/:propertyName`, { schema: { params: propertyParams, body: propertyUpdate } }, async (request) => {
    checkObjectType(request.params.objectType);
    return toPropertyJson(portalOf(request).properties.update(request.params.propertyName, request.body));
  });

  app.delete(`${BASE}/:propertyName`, { schema: { params: propertyParams } }, async (request, reply) => {
    checkObjectType(request.params.objectType);
    const properties = portalOf(request).properties;
    const property = properties.get(request.params.propertyName);
    if (!property) throw propertyNotFound(request.params.propertyName);
    if (property.hubspotDefined) throw validationError(`${property.name} is a HubSpot-defined property and cannot be archived.`);
    property.archived = true;
    return reply.code(204).send();
  });
};
