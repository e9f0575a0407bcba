import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { apiContext, apiWriteContext } from "../http/api-guard.js";
import { SalesforceError } from "../http/errors.js";
import { isWellFormedId, KEY_PREFIX, to18 } from "../state/ids.js";
import { SOBJECTS, type PendingWrite, type SObjectName, type SObjectStore, type WriteContext } from "../state/records.js";
import type { Org } from "../state/org.js";
import { fail, recordError, type RecordError, type SaveOutcome } from "../state/record-errors.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { asObject, recordJson, requestedFields } from "./serialize.js";

/** sObject Collections take at most 200 records per call. */
export const MAX_COLLECTION = 200;

const ROLLED_BACK = recordError("ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid and the request was using AllOrNone header");

interface CollectionBody {
  allOrNone: boolean;
  records: Array<Record<string, unknown>>;
}

function collectionBody(raw: unknown): CollectionBody {
  const body = asObject(raw);
  const records = body["records"];
  if (!Array.isArray(records)) throw new SalesforceError(400, "INVALID_FIELD", "records is required");
  if (records.length > MAX_COLLECTION) {
    throw new SalesforceError(400, "EXCEEDED_ID_LIMIT", `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
  }
  return { allOrNone: body["allOrNone"] === true, records: records.map(asObject) };
}

/** The record's `attributes.type`, one the sandbox serves, or the per-record error. */
function recordType(record: Record<string, unknown>): SObjectName | RecordError {
  const attributes = record["attributes"];
  const type = attributes && typeof attributes === "object" ? (attributes as Record<string, unknown>)["type"] : undefined;
  if (type === undefined) return recordError("INVALID_TYPE", "Must specify a type in attributes field");
  if (!SOBJECTS.includes(type as SObjectName)) return recordError("INVALID_TYPE", `sObject type '${String(type)}' is not supported by the sandbox`);
  return type as SObjectName;
}

function sobjectParam(raw: string): SObjectName {
  if (!SOBJECTS.includes(raw as SObjectName)) throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
  return raw as SObjectName;
}

type ItemResult = { id: string | null; success: boolean; errors: RecordError[]; created?: boolean };

/**
 * Runs a collection in one transaction: each item sees the ones before it. allOrNone: the first failure rolls
 * everything back (failed items keep their errors, the others get ALL_OR_NONE_OPERATION_ROLLED_BACK) and no
 * change event is published. Results come back in request order with HTTP 200.
 */
function runCollection(
  state: SandboxState,
  org: Org,
  body: CollectionBody,
  prepare: (record: Record<string, unknown>) => SaveOutcome<PendingWrite> & { created?: boolean },
  withCreated: boolean,
): ItemResult[] {
  const applied: Array<PendingWrite & { store: SObjectStore }> = [];
  const results: ItemResult[] = [];
  for (const record of body.records) {
    const outcome = prepare(record);
    if (outcome.ok) {
      const store = org.store(outcome.value.event.entityName as SObjectName);
      store.apply(outcome.value);
      applied.push({ ...outcome.value, store });
      results.push({ id: outcome.value.id, success: true, errors: [], ...(withCreated && { created: outcome.created ?? false }) });
    } else {
      results.push({ id: null, success: false, errors: outcome.errors, ...(withCreated && { created: false }) });
    }
  }
  if (body.allOrNone && results.some((r) => !r.success)) {
    for (const write of [...applied].reverse()) {
      if (write.before) write.store.records.set(write.id, write.before);
      else write.store.records.delete(write.id);
    }
    return results.map((r) => (r.success ? { id: null, success: false, errors: [ROLLED_BACK], ...(withCreated && { created: false }) } : r));
  }
  state.announce(org, applied);
  return results;
}

function updateTarget(org: Org, type: SObjectName, rawId: unknown): string | RecordError {
  if (typeof rawId !== "string" || rawId === "") return recordError("MISSING_ARGUMENT", "Id not specified in an update call");
  if (!isWellFormedId(rawId) || !rawId.startsWith(KEY_PREFIX[type])) return recordError("MALFORMED_ID", `${type} ID: id value of incorrect type: ${rawId}`, ["Id"]);
  const id = to18(rawId);
  const record = org.store(type).get(id);
  if (!record) return recordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id");
  if (record["IsDeleted"] === true) return recordError("ENTITY_IS_DELETED", "entity is deleted");
  return id;
}

function withoutMeta(record: Record<string, unknown>, ...drop: string[]): Record<string, unknown> {
  const copy = { ...record };
  delete copy["attributes"];
  for (const key of drop) delete copy[key];
  return copy;
}

/** `/composite/sobjects`: create, update, upsert by external id, retrieve and delete up to 200 records. */
export const compositeRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  const base = "/services/data/:version/composite/sobjects";
  const ctx = (request: FastifyRequest): WriteContext => apiWriteContext(request, "collection");

  app.post(base, async (request) => {
    const { org } = apiContext(request);
    const body = collectionBody(request.body);
    const write = ctx(request);
    return runCollection(
      state,
      org,
      body,
      (record) => {
        const type = recordType(record);
        if (typeof type !== "string") return fail(type);
        if ("Id" in record || "id" in record) return fail(recordError("INVALID_FIELD", "Id is not allowed in a create call", ["Id"]));
        return org.store(type).prepareCreate(withoutMeta(record), write);
      },
      false,
    );
  });

  app.patch(base, async (request) => {
    const { org } = apiContext(request);
    const body = collectionBody(request.body);
    const write = ctx(request);
    return runCollection(
      state,
      org,
      body,
      (record) => {
        const type = recordType(record);
        if (typeof type !== "string") return fail(type);
        const target = updateTarget(org, type, record["id"] ?? record["Id"]);
        if (typeof target !== "string") return fail(target);
        return org.store(type).prepareUpdate(target, withoutMeta(record, "id", "Id"), write);
      },
      false,
    );
  });

  app.patch<{ Params: { sobject: string; field: string } }>(`${base}/:sobject/:field`, async (request) => {
    const { org } = apiContext(request);
    const objectName = sobjectParam(request.params.sobject);
    const store = org.store(objectName);
    const def = store.field(request.params.field);
    if (!def || !def.externalId) throw new SalesforceError(400, "INVALID_FIELD", `Field ${request.params.field} is not an External ID or Id field for ${objectName}`);
    const body = collectionBody(request.body);
    const write = ctx(request);
    return runCollection(
      state,
      org,
      body,
      (record) => {
        const type = recordType(record);
        if (typeof type !== "string") return fail(type);
        if (type !== objectName) return fail(recordError("INVALID_TYPE", `the records must all be ${objectName}`));
        const value = record[def.name];
        if (typeof value !== "string" || value === "") return fail(recordError("MISSING_ARGUMENT", `${def.name} not specified`, [def.name]));
        const found = store.findBy(def.name, value);
        if (found.length > 1) {
          return fail(recordError("DUPLICATE_EXTERNAL_ID", `${def.name}: more than one record found for external id field: [${found.map((r) => String(r["Id"])).join(", ")}]`, [def.name]));
        }
        const existing = found[0];
        if (existing) {
          const updated = store.prepareUpdate(String(existing["Id"]), withoutMeta(record, def.name), write);
          return updated.ok ? { ...updated, created: false } : updated;
        }
        const created = store.prepareCreate(withoutMeta(record), write);
        return created.ok ? { ...created, created: true } : created;
      },
      true,
    );
  });

  const retrieve = (org: Org, type: SObjectName, version: string, ids: string[], fieldsParam: string | undefined) => {
    if (ids.length > MAX_COLLECTION) throw new SalesforceError(400, "EXCEEDED_ID_LIMIT", `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
    const fields = requestedFields(org, fieldsParam, type);
    if (!fields) throw new SalesforceError(400, "INVALID_FIELD", "fields is required");
    return ids.map((raw) => {
      const record = isWellFormedId(raw) ? org.store(type).get(to18(raw)) : undefined;
      return record && record["IsDeleted"] !== true ? recordJson(type, record, version, fields) : null;
    });
  };

  app.get<{ Params: { sobject: string }; Querystring: { ids?: string; fields?: string } }>(`${base}/:sobject`, async (request) => {
    const { org, version } = apiContext(request);
    const ids = (request.query.ids ?? "").split(",").filter(Boolean);
    return retrieve(org, sobjectParam(request.params.sobject), version, ids, request.query.fields);
  });

  app.post<{ Params: { sobject: string } }>(`${base}/:sobject`, async (request) => {
    const { org, version } = apiContext(request);
    const body = asObject(request.body);
    const ids = Array.isArray(body["ids"]) ? body["ids"].map(String) : [];
    const fields = Array.isArray(body["fields"]) ? body["fields"].map(String).join(",") : undefined;
    return retrieve(org, sobjectParam(request.params.sobject), version, ids, fields);
  });

  app.delete<{ Querystring: { ids?: string; allOrNone?: string } }>(base, async (request) => {
    const { org } = apiContext(request);
    const ids = (request.query.ids ?? "").split(",").filter(Boolean);
    const write = ctx(request);
    return runCollection(
      state,
      org,
      { allOrNone: request.query.allOrNone === "true", records: ids.map((id) => ({ id })) },
      (record) => {
        const raw = String(record["id"]);
        const type = SOBJECTS.find((t) => raw.startsWith(KEY_PREFIX[t])) ?? "Lead";
        const target = updateTarget(org, type, raw);
        return typeof target === "string" ? org.store(type).prepareDelete(target, write) : fail(target);
      },
      false,
    );
  });
};
