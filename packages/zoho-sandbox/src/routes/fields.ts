import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { accountOf } from "../http/api-guard.js";
import { requiredParamMissing, ZohoError } from "../http/zoho-error.js";

const moduleQuery = z.object({ module: z.string().optional() });
const createBody = z.object({
  fields: z.array(z.object({ field_label: z.string(), data_type: z.string(), length: z.number().int().optional() }).passthrough()).min(1).max(5),
});

function leadsOnly(module: string | undefined): void {
  if (module === undefined) throw requiredParamMissing("module");
  if (module !== "Leads") throw new ZohoError(400, "INVALID_MODULE", "the module name given seems to be invalid", { resource_path_index: 0 });
}

/** `/crm/v8/settings/fields?module=Leads`: field metadata, and custom fields created by an admin's token. */
export const fieldsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get("/crm/v8/settings/fields", { schema: { querystring: moduleQuery } }, async (request) => {
    leadsOnly(request.query.module);
    return { fields: accountOf(request).fields.list() };
  });

  app.post("/crm/v8/settings/fields", { schema: { querystring: moduleQuery, body: createBody } }, async (request, reply) => {
    leadsOnly(request.query.module);
    const account = accountOf(request);
    if (!account.settings.fieldsPermission) {
      throw new ZohoError(403, "NO_PERMISSION", "permission denied", { permissions: ["Crm_Implied_Customize_Zoho_CRM"] });
    }
    const results = request.body.fields.map((input, index) => {
      if (input.data_type !== "text") {
        return { code: "INVALID_DATA", details: { api_name: "data_type", json_path: `$.fields[${index}].data_type` }, message: "unsupported data_type in the emulator", status: "error" };
      }
      if (account.fields.byLabel(input.field_label)) {
        return { code: "DUPLICATE_DATA", details: { api_name: "field_label", json_path: `$.fields[${index}].field_label` }, message: "duplicate data", status: "error" };
      }
      // Zoho answers the new field's id only: its api_name must be read back from GET
      const field = account.fields.addCustom({ field_label: input.field_label, data_type: "text", length: Math.min(input.length ?? 255, 255) }, account.settings.fieldApiNameSuffix);
      return { code: "SUCCESS", details: { id: field.id }, message: "field created", status: "success" };
    });
    const ok = results.filter((r) => r.status === "success").length;
    return reply.code(ok === results.length ? 201 : ok === 0 ? 400 : 207).send({ fields: results });
  });
};
