import { SalesforceError } from "../http/errors.js";
import { conditionsOf, evaluate, type Condition, type Literal, type SoqlQuery } from "./parse.js";

type Row = Record<string, string | boolean | null>;

function same(a: string | boolean | null | undefined, b: Literal): boolean {
  if (a === undefined || a === null || b === null) return (a ?? null) === b;
  if (typeof b === "object") return false;
  return String(a).toLowerCase() === String(b).toLowerCase();
}

function holds(row: Row, condition: Condition): boolean {
  const value = row[condition.field];
  const values = Array.isArray(condition.value) ? condition.value : [condition.value];
  switch (condition.op) {
    case "=":
      return same(value, values[0] ?? null);
    case "!=":
      return !same(value, values[0] ?? null);
    case "IN":
      return values.some((v) => same(value, v));
    case "NOT IN":
      return !values.some((v) => same(value, v));
    default:
      throw new SalesforceError(400, "MALFORMED_QUERY", `the sandbox's Tooling query supports =, !=, IN and NOT IN only`);
  }
}

/** A Tooling query over a small in-memory table: field names are checked, values compared case-insensitively. */
export function queryRows(query: SoqlQuery, rows: Row[], columns: string[], objectName: string): Array<Record<string, unknown>> {
  const canonical = (name: string) => {
    const found = columns.find((c) => c.toLowerCase() === name.toLowerCase());
    if (!found) throw new SalesforceError(400, "INVALID_FIELD", `No such column '${name}' on entity '${objectName}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
    return found;
  };
  for (const c of conditionsOf(query.where)) canonical(c.field);
  const select = query.fields.map(canonical);
  const matching = rows.filter((row) => evaluate(query.where, (c) => holds(row, { ...c, field: canonical(c.field) })));
  const limited = query.limit === undefined ? matching : matching.slice(0, query.limit);
  return limited.map((row) => ({ attributes: { type: objectName }, ...Object.fromEntries(select.map((f) => [f, row[f] ?? null])) }));
}
