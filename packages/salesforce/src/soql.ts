/** Building SOQL from our own values only: names and ids are checked, literals escaped (SOQL injection). */

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
const RECORD_ID = /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/;

export function isFieldName(name: string): boolean {
  return FIELD_NAME.test(name);
}

export function isRecordId(id: string): boolean {
  return RECORD_ID.test(id);
}

/** A field list for SELECT: valid names, each once (SOQL rejects a duplicate field, case-insensitively). */
export function selectList(fields: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const field of fields) {
    if (!isFieldName(field)) throw new Error(`not a Salesforce field name: ${JSON.stringify(field)}`);
    const key = field.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(field);
    }
  }
  return out.join(", ");
}

/** A quoted string literal: backslash and quote escaped, as SOQL's grammar says. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n").replace(/\r/g, "\\r")}'`;
}

/** `('a', 'b')` for `IN`; ids are checked first. */
export function idList(ids: readonly string[]): string {
  for (const id of ids) if (!isRecordId(id)) throw new Error(`not a Salesforce record id: ${JSON.stringify(id)}`);
  return `(${ids.map(quote).join(", ")})`;
}

/** A SOQL datetime literal (no quotes), whole seconds: `2026-12-03T06:40:00Z`. */
export function dateTimeLiteral(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Salesforce's `2026-12-03T06:40:00.000+0000` (or ISO) → ms epoch; NaN when unreadable. */
export function parseSalesforceDateTime(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return Number.NaN;
  return Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
}
