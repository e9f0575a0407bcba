import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { apiContext, apiWriteContext } from "../http/api-guard.js";
import { SalesforceError } from "../http/errors.js";
import { isWellFormedId, KEY_PREFIX, to18 } from "../state/ids.js";
import type { PendingWrite, WriteContext } from "../state/leads.js";
import type { Org } from "../state/org.js";
import { fail, recordError, type RecordError, type SaveOutcome } from "../state/record-errors.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { asObject, leadJson, requestedFields } from "./serialize.js";

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

function typeError(record: Record<string, unknown>): RecordError | undefined {
  const attributes = record["attributes"];
  const type = attributes && typeof attributes === "object" ? (attributes as Record<string, unknown>)["type"] : undefined;
  if (type === undefined) return recordError("INVALID_TYPE", "Must specify a type in attributes field");
  if (type !== "Lead") return recordError("INVALID_TYPE", `sObject type '${String(type)}' is not supported by the sandbox`);
  return undefined;
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
  const applied: PendingWrite[] = [];
  const results: ItemResult[] = [];
  for (const record of body.records) {
    const outcome = prepare(record);
    if (outcome.ok) {
      org.leads.apply(outcome.value);
      applied.push(outcome.value);
      results.push({ id: outcome.value.id, success: true, errors: [], ...(withCreated && { created: outcome.created ?? false }) });
    } else {
      results.push({ id: null, success: false, errors: outcome.errors, ...(withCreated && { created: false }) });
    }
  }
  if (body.allOrNone && results.some((r) => !r.success)) {
    for (const write of [...applied].reverse()) {
      if (write.before) org.leads.records.set(write.id, write.before);
      else org.leads.records.delete(write.id);
    }
    return results.map((r) => (r.success ? { id: null, success: false, errors: [ROLLED_BACK], ...(withCreated && { created: false }) } : r));
  }
  state.announce(org, applied);
  return results;
}

function updateTarget(org: Org, rawId: unknown): string | RecordError {
  if (typeof rawId !== "string" || rawId === "") return recordError("MISSING_ARGUMENT", "Id not specified in an update call");
  if (!isWellFormedId(rawId) || !rawId.startsWith(KEY_PREFIX.Lead)) return recordError("MALFORMED_ID", `Lead ID: id value of incorrect type: ${rawId}`, ["Id"]);
  const id = to18(rawId);
  const record = org.leads.get(id);
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
        const bad = typeError(record);
        if (bad) return fail(bad);
        if ("Id" in record || "id" in record) return fail(recordError("INVALID_FIELD", "Id is not allowed in a create call", ["Id"]));
        return org.leads.prepareCreate(withoutMeta(record), write);
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
        const bad = typeError(record);
        if (bad) return fail(bad);
        const target = updateTarget(org, record["id"] ?? record["Id"]);
        if (typeof target !== "string") return fail(target);
        return org.leads.prepareUpdate(target, withoutMeta(record, "id", "Id"), write);
      },
      false,
    );
  });

  app.patch<{ Params: { field: string } }>(`${base}/Lead/:field`, async (request) => {
    const { org } = apiContext(request);
    const def = org.field(request.params.field);
    if (!def || !def.externalId) throw new SalesforceError(400, "INVALID_FIELD", `Field ${request.params.field} is not an External ID or Id field for Lead`);
    const body = collectionBody(request.body);
    const write = ctx(request);
    return runCollection(
      state,
      org,
      body,
      (record) => {
        const bad = typeError(record);
        if (bad) return fail(bad);
        const value = record[def.name];
        if (typeof value !== "string" || value === "") return fail(recordError("MISSING_ARGUMENT", `${def.name} not specified`, [def.name]));
        const found = org.leads.findBy(def.name, value);
        if (found.length > 1) {
          return fail(recordError("DUPLICATE_EXTERNAL_ID", `${def.name}: more than one record found for external id field: [${found.map((r) => String(r["Id"])).join(", ")}]`, [def.name]));
        }
        const existing = found[0];
        if (existing) {
          const updated = org.leads.prepareUpdate(String(existing["Id"]), withoutMeta(record, def.name), write);
          return updated.ok ? { ...updated, created: false } : updated;
        }
        const created = org.leads.prepareCreate(withoutMeta(record), write);
        return created.ok ? { ...created, created: true } : created;
      },
      true,
    );
  });

  const retrieve = (org: Org, version: string, ids: string[], fieldsParam: string | undefined) => {
    if (ids.length > MAX_COLLECTION) throw new SalesforceError(400, "EXCEEDED_ID_LIMIT", `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
    const fields = requestedFields(org, fieldsParam);
    if (!fields) throw new SalesforceError(400, "INVALID_FIELD", "fields is required");
    return ids.map((raw) => {
      const record = isWellFormedId(raw) ? org.leads.get(to18(raw)) : undefined;
      return record && record["IsDeleted"] !== true ? leadJson(record, version, fields) : null;
    });
  };

  app.get<{ Querystring: { ids?: string; fields?: string } }>(`${base}/Lead`, async (request) => {
    const { org, version } = apiContext(request);
    const ids = (request.query.ids ?? "").split(",").filter(Boolean);
    return retrieve(org, version, ids, request.query.fields);
  });

  app.post(`${base}/Lead`, async (request) => {
    const { org, version } = apiContext(request);
    const body = asObject(request.body);
    const ids = Array.isArray(body["ids"]) ? body["ids"].map(String) : [];
    const fields = Array.isArray(body["fields"]) ? body["fields"].map(String).join(",") : undefined;
    return retrieve(org, version, ids, fields);
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
        const target = updateTarget(org, record["id"]);
        return typeof target === "string" ? org.leads.prepareDelete(target, write) : fail(target);
      },
      false,
    );
  });
};
