import type { FastifyPluginAsync } from "fastify";
import { apiContext, apiWriteContext } from "../http/api-guard.js";
import { notFound, saveFailed, SalesforceError } from "../http/errors.js";
import type { Org } from "../state/org.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { asObject, leadIdFrom, leadJson, leadUrl, liveLead, requestedFields } from "./serialize.js";
import { describeLead, describeGlobal } from "./describe.js";

type Params = { id: string; field: string; value: string; sobject: string };

/** sObject Basic Information, Describe, Rows and Rows by External ID, for Lead (and reads of converted Contacts). */
export const sobjectRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  const base = "/services/data/:version/sobjects";

  app.get(base, async (request) => describeGlobal(apiContext(request).version));

  app.get(`${base}/Lead`, async (request) => {
    const { org, version } = apiContext(request);
    const recent = [...org.leads.records.values()].filter((r) => r["IsDeleted"] !== true).slice(-10).reverse();
    return { objectDescribe: { ...describeLead(org, version), fields: undefined }, recentItems: recent.map((r) => leadJson(r, version, [org.field("Id"), org.field("Name")].filter((f) => f !== undefined))) };
  });

  app.get(`${base}/Lead/describe`, async (request) => {
    const { org, version } = apiContext(request);
    return describeLead(org, version);
  });

  app.post(`${base}/Lead`, async (request, reply) => {
    const { org } = apiContext(request);
    const body = asObject(request.body);
    const prepared = org.leads.prepareCreate(body, apiWriteContext(request, "sobject"));
    if (!prepared.ok) throw saveFailed(prepared.errors);
    state.commit(org, [prepared.value]);
    return reply.code(201).send({ id: prepared.value.id, success: true, errors: [] });
  });

  app.get<{ Params: Params; Querystring: { fields?: string } }>(`${base}/Lead/:id`, async (request) => {
    const { org, version } = apiContext(request);
    const record = liveLead(org, leadIdFrom(request.params.id));
    return leadJson(record, version, requestedFields(org, request.query.fields));
  });

  app.patch<{ Params: Params }>(`${base}/Lead/:id`, async (request, reply) => {
    const { org } = apiContext(request);
    const id = leadIdFrom(request.params.id);
    liveLead(org, id);
    const body = asObject(request.body);
    if ("Id" in body || "id" in body) throw new SalesforceError(400, "INVALID_FIELD", "Unable to create/update fields: Id. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", ["Id"]);
    const prepared = org.leads.prepareUpdate(id, body, apiWriteContext(request, "sobject"));
    if (!prepared.ok) throw saveFailed(prepared.errors);
    state.commit(org, [prepared.value]);
    return reply.code(204).send();
  });

  app.delete<{ Params: Params }>(`${base}/Lead/:id`, async (request, reply) => {
    const { org } = apiContext(request);
    const id = leadIdFrom(request.params.id);
    liveLead(org, id);
    const prepared = org.leads.prepareDelete(id, apiWriteContext(request, "sobject"));
    if (!prepared.ok) throw saveFailed(prepared.errors);
    state.commit(org, [prepared.value]);
    return reply.code(204).send();
  });

  app.get<{ Params: Params; Querystring: { fields?: string } }>(`${base}/Lead/:field/:value`, async (request, reply) => {
    const { org, version } = apiContext(request);
    const field = externalIdField(org, request.params.field);
    const found = org.leads.findBy(field, request.params.value);
    const [record] = found;
    if (!record) throw notFound();
    if (found.length > 1) return reply.code(300).send(found.map((r) => leadUrl(version, String(r["Id"]))));
    return leadJson(record, version, requestedFields(org, request.query.fields));
  });

  /** Upsert by external id: no match creates (201), one match updates (200), several answer 300 with their URLs. */
  app.patch<{ Params: Params; Querystring: { updateOnly?: string } }>(`${base}/Lead/:field/:value`, async (request, reply) => {
    const { org, version } = apiContext(request);
    const field = externalIdField(org, request.params.field);
    const body = asObject(request.body);
    const ctx = apiWriteContext(request, "sobject");
    const value = request.params.value;
    const found = field === "Id" ? [org.leads.get(leadIdFrom(value))].filter((r) => r !== undefined && r["IsDeleted"] !== true) : org.leads.findBy(field, value);
    if (found.length > 1) return reply.code(300).send(found.map((r) => leadUrl(version, String(r?.["Id"]))));
    const existing = found[0];
    if (existing) {
      const prepared = org.leads.prepareUpdate(String(existing["Id"]), body, ctx);
      if (!prepared.ok) throw saveFailed(prepared.errors);
      state.commit(org, [prepared.value]);
      return reply.code(200).send({ id: prepared.value.id, success: true, errors: [], created: false });
    }
    if (request.query.updateOnly === "true" || field === "Id") throw notFound();
    const prepared = org.leads.prepareCreate({ ...body, [field]: value }, ctx);
    if (!prepared.ok) throw saveFailed(prepared.errors);
    state.commit(org, [prepared.value]);
    return reply.code(201).send({ id: prepared.value.id, success: true, errors: [], created: true });
  });

  app.get<{ Params: Params }>(`${base}/Contact/:id`, async (request) => {
    const { org, version } = apiContext(request);
    const contact = org.contacts.get(request.params.id);
    if (!contact) throw notFound();
    return { attributes: { type: "Contact", url: `/services/data/v${version}/sobjects/Contact/${request.params.id}` }, ...contact };
  });

  app.all<{ Params: Params }>(`${base}/:sobject`, async () => {
    throw notFound();
  });
};

/** The URL's field must be Id or an External ID field of Lead (Salesforce: 404 otherwise). */
function externalIdField(org: Org, name: string): string {
  const def = org.field(name);
  if (!def || !(def.externalId || def.name === "Id")) throw notFound(`Provided external ID field does not exist or is not accessible: ${name}`);
  return def.name;
}
