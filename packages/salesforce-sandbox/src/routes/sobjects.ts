import type { FastifyPluginAsync } from "fastify";
import { apiContext, apiWriteContext } from "../http/api-guard.js";
import { notFound, saveFailed, SalesforceError } from "../http/errors.js";
import type { Org } from "../state/org.js";
import { SOBJECTS, type SObjectName } from "../state/records.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { describeGlobal, describeSObject } from "./describe.js";
import { asObject, liveRecord, recordIdFrom, recordJson, recordUrl, requestedFields } from "./serialize.js";

type Params = { id: string; field: string; value: string; sobject: string };

/** sObject Basic Information, Describe, Rows and Rows by External ID, for Lead and Contact. */
export const sobjectRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  const base = "/services/data/:version/sobjects";

  app.get(base, async (request) => describeGlobal(apiContext(request).version));

  for (const type of SOBJECTS) {
    app.get(`${base}/${type}`, async (request) => {
      const { org, version } = apiContext(request);
      const store = org.store(type);
      const recent = [...store.records.values()].filter((r) => r["IsDeleted"] !== true).slice(-10).reverse();
      const summary = ["Id", "Name"].map((name) => store.field(name)).filter((f) => f !== undefined);
      const { fields: _fields, ...objectDescribe } = describeSObject(type, store.fields(), version);
      return { objectDescribe, recentItems: recent.map((r) => recordJson(type, r, version, summary)) };
    });

    app.get(`${base}/${type}/describe`, async (request) => {
      const { org, version } = apiContext(request);
      return describeSObject(type, org.store(type).fields(), version);
    });

    app.post(`${base}/${type}`, async (request, reply) => {
      const { org } = apiContext(request);
      const body = asObject(request.body);
      const prepared = org.store(type).prepareCreate(body, apiWriteContext(request, "sobject"));
      if (!prepared.ok) throw saveFailed(prepared.errors);
      state.commit(org, [prepared.value]);
      return reply.code(201).send({ id: prepared.value.id, success: true, errors: [] });
    });

    app.get<{ Params: Params; Querystring: { fields?: string } }>(`${base}/${type}/:id`, async (request) => {
      const { org, version } = apiContext(request);
      const record = liveRecord(org.store(type), recordIdFrom(request.params.id, type));
      return recordJson(type, record, version, requestedFields(org, request.query.fields, type));
    });

    app.patch<{ Params: Params }>(`${base}/${type}/:id`, async (request, reply) => {
      const { org } = apiContext(request);
      const id = recordIdFrom(request.params.id, type);
      liveRecord(org.store(type), id);
      const body = asObject(request.body);
      if ("Id" in body || "id" in body) {
        throw new SalesforceError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: Id. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", ["Id"]);
      }
      const prepared = org.store(type).prepareUpdate(id, body, apiWriteContext(request, "sobject"));
      if (!prepared.ok) throw saveFailed(prepared.errors);
      state.commit(org, [prepared.value]);
      return reply.code(204).send();
    });

    app.delete<{ Params: Params }>(`${base}/${type}/:id`, async (request, reply) => {
      const { org } = apiContext(request);
      const id = recordIdFrom(request.params.id, type);
      liveRecord(org.store(type), id);
      const prepared = org.store(type).prepareDelete(id, apiWriteContext(request, "sobject"));
      if (!prepared.ok) throw saveFailed(prepared.errors);
      state.commit(org, [prepared.value]);
      return reply.code(204).send();
    });

    app.get<{ Params: Params; Querystring: { fields?: string } }>(`${base}/${type}/:field/:value`, async (request, reply) => {
      const { org, version } = apiContext(request);
      const field = externalIdField(org, type, request.params.field);
      const found = org.store(type).findBy(field, request.params.value);
      const [record] = found;
      if (!record) throw notFound();
      if (found.length > 1) return reply.code(300).send(found.map((r) => recordUrl(type, version, String(r["Id"]))));
      return recordJson(type, record, version, requestedFields(org, request.query.fields, type));
    });

    /** Upsert by external id: no match creates (201), one match updates (200), several answer 300 with their URLs. */
    app.patch<{ Params: Params; Querystring: { updateOnly?: string } }>(`${base}/${type}/:field/:value`, async (request, reply) => {
      const { org, version } = apiContext(request);
      const store = org.store(type);
      const field = externalIdField(org, type, request.params.field);
      const body = asObject(request.body);
      const ctx = apiWriteContext(request, "sobject");
      const value = request.params.value;
      const found = field === "Id" ? [store.get(recordIdFrom(value, type))].filter((r) => r !== undefined && r["IsDeleted"] !== true) : store.findBy(field, value);
      if (found.length > 1) return reply.code(300).send(found.map((r) => recordUrl(type, version, String(r?.["Id"]))));
      const existing = found[0];
      if (existing) {
        const prepared = store.prepareUpdate(String(existing["Id"]), body, ctx);
        if (!prepared.ok) throw saveFailed(prepared.errors);
        state.commit(org, [prepared.value]);
        return reply.code(200).send({ id: prepared.value.id, success: true, errors: [], created: false });
      }
      if (request.query.updateOnly === "true" || field === "Id") throw notFound();
      const prepared = store.prepareCreate({ ...body, [field]: value }, ctx);
      if (!prepared.ok) throw saveFailed(prepared.errors);
      state.commit(org, [prepared.value]);
      return reply.code(201).send({ id: prepared.value.id, success: true, errors: [], created: true });
    });
  }

  app.all<{ Params: Params }>(`${base}/:sobject`, async () => {
    throw notFound();
  });
};

/** The URL's field must be Id or an External ID field of the object (Salesforce: 404 otherwise). */
function externalIdField(org: Org, type: SObjectName, name: string): string {
  const def = org.fieldOf(type, name);
  if (!def || !(def.externalId || def.name === "Id")) throw notFound(`Provided external ID field does not exist or is not accessible: ${name}`);
  return def.name;
}
