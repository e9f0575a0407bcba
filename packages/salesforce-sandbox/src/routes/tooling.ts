import type { FastifyPluginAsync } from "fastify";
import { apiContext } from "../http/api-guard.js";
import { SalesforceError } from "../http/errors.js";
import { parseSoql } from "../soql/parse.js";
import { queryRows } from "../soql/rows.js";
import type { Org } from "../state/org.js";
import type { CustomFieldMetadata } from "../state/lead-fields.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { asObject } from "./serialize.js";

const SUPPORTED_TYPES = new Set(["Text", "Email", "Phone", "Checkbox"]);

/** The entities Change Data Capture can select in the sandbox (Setup → Change Data Capture). */
const CDC_ENTITIES = new Set(["Lead"]);

/** Metadata writes need "Customize Application"; without it Salesforce answers 403. */
function requireCustomize(org: Org): void {
  if (!org.settings.customizeApplication) {
    throw new SalesforceError(
      403,
      "INSUFFICIENT_ACCESS_OR_READONLY",
      "You do not have the level of access necessary to perform the operation you requested. Please contact the owner of the record or your administrator if access is necessary.",
    );
  }
}

function channelMemberRows(org: Org) {
  return [...org.settings.cdcEntities].map((entity) => ({
    Id: org.channelMemberId(entity),
    DeveloperName: `ChangeEvents_${entity}ChangeEvent`,
    FullName: `ChangeEvents_${entity}ChangeEvent`,
    EventChannel: "ChangeEvents",
    SelectedEntity: `${entity}ChangeEvent`,
  }));
}

function customFieldRows(org: Org) {
  return [...org.customFields.values()].map((f) => ({
    Id: f.id,
    DeveloperName: f.fullName.slice("Lead.".length).replace(/__c$/, ""),
    TableEnumOrId: "Lead",
    FullName: f.fullName,
  }));
}

/**
 * Tooling API: `CustomField` create on Lead, `PlatformEventChannelMember` (select / deselect an entity for Change
 * Data Capture), both need "Customize Application"; and `tooling/query` over those two objects.
 */
export const toolingRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  void state;
  app.get<{ Querystring: { q?: string } }>("/services/data/:version/tooling/query", async (request) => {
    const { org } = apiContext(request);
    const soql = request.query.q;
    if (!soql) throw new SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified");
    const query = parseSoql(soql);
    const object = query.object.toLowerCase();
    const records =
      object === "customfield"
        ? queryRows(query, customFieldRows(org), ["Id", "DeveloperName", "TableEnumOrId", "FullName"], "CustomField")
        : object === "platformeventchannelmember"
          ? queryRows(query, channelMemberRows(org), ["Id", "DeveloperName", "FullName", "EventChannel", "SelectedEntity"], "PlatformEventChannelMember")
          : undefined;
    if (!records) throw new SalesforceError(400, "INVALID_TYPE", `sObject type '${query.object}' is not supported.`);
    return { size: records.length, totalSize: records.length, done: true, queryLocator: null, entityTypeName: query.object, records };
  });

  app.post("/services/data/:version/tooling/sobjects/PlatformEventChannelMember", async (request, reply) => {
    const { org } = apiContext(request);
    requireCustomize(org);
    const body = asObject(request.body);
    const metadata = (body["Metadata"] && typeof body["Metadata"] === "object" ? body["Metadata"] : {}) as Record<string, unknown>;
    const selected = String(metadata["selectedEntity"] ?? "");
    const entity = selected.replace(/ChangeEvent$/, "");
    if (metadata["eventChannel"] !== "ChangeEvents" || !CDC_ENTITIES.has(entity)) {
      throw new SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", `selectedEntity: the sandbox can select LeadChangeEvent on the ChangeEvents channel, got ${selected || "nothing"}`, ["Metadata"]);
    }
    if (org.settings.cdcEntities.has(entity)) throw new SalesforceError(400, "DUPLICATE_VALUE", `duplicate value found: SelectedEntity duplicates value on record with id: ${org.channelMemberId(entity)}`);
    org.settings.cdcEntities.add(entity);
    return reply.code(201).send({ id: org.channelMemberId(entity), success: true, errors: [], warnings: [], infos: [] });
  });

  app.delete<{ Params: { id: string } }>("/services/data/:version/tooling/sobjects/PlatformEventChannelMember/:id", async (request, reply) => {
    const { org } = apiContext(request);
    requireCustomize(org);
    const entity = [...org.settings.cdcEntities].find((e) => org.channelMemberId(e) === request.params.id);
    if (!entity) throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
    org.settings.cdcEntities.delete(entity);
    return reply.code(204).send();
  });

  app.post("/services/data/:version/tooling/sobjects/CustomField", async (request, reply) => {
    const { org } = apiContext(request);
    requireCustomize(org);
    const body = asObject(request.body);
    const fullName = body["FullName"];
    const metadata = (body["Metadata"] && typeof body["Metadata"] === "object" ? body["Metadata"] : {}) as Record<string, unknown>;
    if (typeof fullName !== "string" || !/^Lead\.[A-Za-z][A-Za-z0-9_]*__c$/.test(fullName)) {
      throw new SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", `FullName must be Lead.<Name>__c, got: ${String(fullName)}`, ["FullName"]);
    }
    const apiName = fullName.slice("Lead.".length);
    if (org.field(apiName)) throw new SalesforceError(400, "DUPLICATE_DEVELOPER_NAME", `There's already a field named ${apiName.replace(/__c$/, "")} on Lead.`);
    const type = typeof metadata["type"] === "string" ? metadata["type"] : undefined;
    if (!type || !SUPPORTED_TYPES.has(type)) throw new SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", `Must specify a supported field type (Text, Email, Phone, Checkbox), got: ${String(type)}`, ["Metadata"]);
    if (typeof metadata["label"] !== "string" || metadata["label"] === "") throw new SalesforceError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Metadata.label]", ["Metadata"]);
    if (type === "Text" && typeof metadata["length"] !== "number") throw new SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", "Length: You must enter a value", ["Metadata"]);
    const meta: CustomFieldMetadata = {
      label: metadata["label"] as string,
      type,
      length: typeof metadata["length"] === "number" ? metadata["length"] : undefined,
      externalId: metadata["externalId"] === true,
      unique: metadata["unique"] === true,
      required: metadata["required"] === true,
    };
    const { id } = org.addCustomField(apiName, fullName, meta);
    return reply.code(201).send({ id, success: true, errors: [], warnings: [], infos: [] });
  });

  app.get<{ Params: { id: string } }>("/services/data/:version/tooling/sobjects/CustomField/:id", async (request) => {
    const { org, version } = apiContext(request);
    const entry = [...org.customFields.values()].find((f) => f.id === request.params.id);
    if (!entry) throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
    return {
      attributes: { type: "CustomField", url: `/services/data/v${version}/tooling/sobjects/CustomField/${entry.id}` },
      Id: entry.id,
      DeveloperName: entry.fullName.slice("Lead.".length).replace(/__c$/, ""),
      TableEnumOrId: "Lead",
      FullName: entry.fullName,
      Metadata: entry.metadata,
    };
  });
};
