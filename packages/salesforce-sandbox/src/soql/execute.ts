import type { FieldValue } from "../cdc/change-log.js";
import { SalesforceError } from "../http/errors.js";
import type { FieldDef } from "../state/lead-fields.js";
import { SOBJECTS, type SObjectName, type SObjectRecord } from "../state/records.js";
import type { Org } from "../state/org.js";
import { isWellFormedId, to18 } from "../state/ids.js";
import { conditionsOf, evaluate, type Condition, type Literal, type SoqlQuery } from "./parse.js";

function invalidField(soql: string, name: string, type: SObjectName): SalesforceError {
  const pos = Math.max(0, soql.indexOf(name));
  return new SalesforceError(
    400,
    "INVALID_FIELD",
    `\n${soql}\n${" ".repeat(pos)}^\nERROR at Row:1:Column:${pos + 1}\nNo such column '${name}' on entity '${type}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );
}

/** Resolves the query's object (Lead or Contact) and field names (case-insensitive, canonical names out). */
export function resolveFields(org: Org, soql: string, query: SoqlQuery): { type: SObjectName; select: FieldDef[]; byName: (n: string) => FieldDef } {
  const type = SOBJECTS.find((t) => t.toLowerCase() === query.object.toLowerCase());
  if (!type) {
    throw new SalesforceError(
      400,
      "INVALID_TYPE",
      `\n${soql}\n^\nERROR at Row:1:Column:1\nsObject type '${query.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const byName = (name: string) => {
    const def = org.fieldOf(type, name);
    if (!def) throw invalidField(soql, name, type);
    return def;
  };
  const select = query.fields.map(byName);
  for (const c of conditionsOf(query.where)) byName(c.field);
  for (const o of query.orderBy) byName(o.field);
  return { type, select, byName };
}

function comparable(def: FieldDef, value: FieldValue | Literal): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") return value.datetime;
  if (def.type === "datetime" && typeof value === "string") return Date.parse(value.replace("+0000", "Z"));
  if (def.type === "id" || def.type === "reference") return typeof value === "string" && isWellFormedId(value) ? to18(value) : String(value);
  if (typeof value === "string") return value.toLowerCase();
  return value;
}

function compare(a: string | number | boolean | null, b: string | number | boolean | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

function matches(def: FieldDef, record: SObjectRecord, condition: Condition): boolean {
  const left = comparable(def, record[def.name] ?? null);
  const values = Array.isArray(condition.value) ? condition.value : [condition.value];
  const rights = values.map((v) => comparable(def, v));
  const right = rights[0] ?? null;
  switch (condition.op) {
    case "=":
      return compare(left, right) === 0;
    case "!=":
      return compare(left, right) !== 0;
    case "<":
      return left !== null && right !== null && compare(left, right) < 0;
    case ">":
      return left !== null && right !== null && compare(left, right) > 0;
    case "<=":
      return left !== null && right !== null && compare(left, right) <= 0;
    case ">=":
      return left !== null && right !== null && compare(left, right) >= 0;
    case "IN":
      return rights.some((r) => compare(left, r) === 0);
    case "NOT IN":
      return !rights.some((r) => compare(left, r) === 0);
    case "LIKE": {
      if (typeof left !== "string" || typeof right !== "string") return false;
      const pattern = right.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("%", ".*").replaceAll("_", ".");
      return new RegExp(`^${pattern}$`, "s").test(left);
    }
  }
}

/** The matching records in the query's order, LIMIT applied; `queryAll` includes deleted ones. */
export function runQuery(org: Org, soql: string, query: SoqlQuery, includeDeleted: boolean): { type: SObjectName; select: FieldDef[]; records: SObjectRecord[] } {
  const { type, select, byName } = resolveFields(org, soql, query);
  let records = [...org.store(type).records.values()].filter(
    (r) => (includeDeleted || r["IsDeleted"] !== true) && evaluate(query.where, (c) => matches(byName(c.field), r, c)),
  );
  if (query.orderBy.length > 0) {
    const order = query.orderBy.map((o) => ({ def: byName(o.field), descending: o.descending }));
    records = records.sort((a, b) => {
      for (const { def, descending } of order) {
        const cmp = compare(comparable(def, a[def.name] ?? null), comparable(def, b[def.name] ?? null));
        if (cmp !== 0) return descending ? -cmp : cmp;
      }
      return 0;
    });
  }
  if (query.limit !== undefined) records = records.slice(0, query.limit);
  return { type, select, records };
}
