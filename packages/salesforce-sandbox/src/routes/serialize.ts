import { malformedId, notFound, SalesforceError } from "../http/errors.js";
import { isWellFormedId, KEY_PREFIX, to18 } from "../state/ids.js";
import type { FieldDef } from "../state/lead-fields.js";
import type { SObjectName, SObjectRecord, SObjectStore } from "../state/records.js";
import type { Org } from "../state/org.js";

export const recordUrl = (type: SObjectName, version: string, id: string) => `/services/data/v${version}/sobjects/${type}/${id}`;
export const leadUrl = (version: string, id: string) => recordUrl("Lead", version, id);

/** A record as the REST API answers it: `attributes` first, then the fields (all of them, or the requested ones). */
export function recordJson(type: SObjectName, record: SObjectRecord, version: string, fields?: FieldDef[]): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: { type, url: recordUrl(type, version, String(record["Id"])) } };
  if (fields) for (const f of fields) out[f.name] = record[f.name] ?? null;
  else Object.assign(out, record);
  return out;
}

export const leadJson = (record: SObjectRecord, version: string, fields?: FieldDef[]) => recordJson("Lead", record, version, fields);

export function invalidFieldError(name: string, type: SObjectName): SalesforceError {
  return new SalesforceError(
    400,
    "INVALID_FIELD",
    `No such column '${name}' on entity '${type}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );
}

/** `?fields=a,b` of a GET, checked against the object's fields. */
export function requestedFields(org: Org, fieldsParam: string | undefined, type: SObjectName = "Lead"): FieldDef[] | undefined {
  if (!fieldsParam) return undefined;
  return fieldsParam
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => {
      const def = org.fieldOf(type, name);
      if (!def) throw invalidFieldError(name, type);
      return def;
    });
}

/**
 * A URL id → the stored record id. Not id-shaped: Salesforce reads it as an external id lookup and answers 404;
 * id-shaped but not an id of this object (prefix, checksum): MALFORMED_ID.
 */
export function recordIdFrom(raw: string, type: SObjectName = "Lead"): string {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(raw)) throw notFound(`Provided external ID field does not exist or is not accessible: ${raw}`);
  if (!isWellFormedId(raw) || !raw.startsWith(KEY_PREFIX[type])) throw malformedId(raw, type);
  return to18(raw);
}

export const leadIdFrom = (raw: string) => recordIdFrom(raw, "Lead");

/** An existing, not deleted record, or Salesforce's 404. */
export function liveRecord(store: SObjectStore, id: string): SObjectRecord {
  const record = store.get(id);
  if (!record) throw notFound();
  if (record["IsDeleted"] === true) throw new SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted");
  return record;
}

/** An existing, not deleted lead, or Salesforce's 404. */
export function liveLead(org: Org, id: string): SObjectRecord {
  const record = org.leads.get(id);
  if (!record) throw notFound();
  if (record["IsDeleted"] === true) throw new SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted");
  return record;
}

export function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}
