import type { FastifyPluginAsync } from "fastify";
import { apiContext } from "../http/api-guard.js";
import { SalesforceError } from "../http/errors.js";
import type { CustomFieldMetadata } from "../state/lead-fields.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { asObject } from "./serialize.js";

const SUPPORTED_TYPES = new Set(["Text", "Email", "Phone", "Checkbox"]);

/** Tooling API: `CustomField` create on Lead (needs "Customize Application") and a lookup by id. */
export const toolingRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  void state;
  app.post("/services/data/:version/tooling/sobjects/CustomField", async (request, reply) => {
    const { org } = apiContext(request);
    if (!org.settings.customizeApplication) {
      throw new SalesforceError(
        403,
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "You do not have the level of access necessary to perform the operation you requested. Please contact the owner of the record or your administrator if access is necessary.",
      );
    }
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
