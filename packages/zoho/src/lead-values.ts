import type { CrmContact } from "@leadsync/core";
import { isRecord } from "./errors.js";
import type { ZohoRecord } from "./leads-api.js";

/** Zoho requires these on every Lead (providers-facts §3.2: Last_Name by the system, Company by the default layout). */
export const REQUIRED_FIELDS = ["Last_Name", "Company"] as const;
/** What a required field gets when the lead has no value: visibly not data, so a person can fill it in. */
export const PLACEHOLDER = "[not provided]";

/** A create body: the lead's values, the marker when absent, placeholders for missing required fields. */
export function createValues(properties: Readonly<Record<string, string>>, email: string, marker: { field: string; value: string }): Record<string, string> {
  const values: Record<string, string> = { ...nonBlank(properties), Email: email };
  if (!(marker.field in values)) values[marker.field] = marker.value;
  for (const field of REQUIRED_FIELDS) if (!values[field]) values[field] = PLACEHOLDER;
  return values;
}

/** An update body: never a placeholder and never a blank required field, so a person's value is never overwritten by one. */
export function updateValues(properties: Readonly<Record<string, string>>): Record<string, string> {
  const values = nonBlank(properties);
  for (const field of REQUIRED_FIELDS) if (values[field] === PLACEHOLDER) delete values[field];
  return values;
}

/** True when the values carry every required field, so an upsert never needs a placeholder. */
export function hasRequiredFields(properties: Readonly<Record<string, string>>): boolean {
  return REQUIRED_FIELDS.every((field) => (properties[field] ?? "").trim() !== "" && properties[field] !== PLACEHOLDER);
}

function nonBlank(properties: Readonly<Record<string, string>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [field, value] of Object.entries(properties)) if (value.trim() !== "") values[field] = value;
  return values;
}

/** A Zoho record as the sync sees it: flat strings (lookups such as `Modified_By` become their id), `Modified_Time` as ms. */
export function toCrmContact(record: ZohoRecord): CrmContact {
  const properties: Record<string, string | null> = {};
  for (const [field, value] of Object.entries(record)) {
    if (field === "id") continue;
    if (value === null || value === undefined) properties[field] = null;
    else if (typeof value === "string") properties[field] = value;
    else if (typeof value === "number" || typeof value === "boolean") properties[field] = String(value);
    else if (isRecord(value) && typeof value["id"] === "string") properties[field] = value["id"];
    else properties[field] = JSON.stringify(value);
  }
  const modified = typeof record["Modified_Time"] === "string" ? Date.parse(record["Modified_Time"]) : Number.NaN;
  return { id: record.id, properties, updatedAt: Number.isNaN(modified) ? 0 : modified };
}

/** A Zoho datetime (second resolution, UTC offset) for `If-Modified-Since`. */
export function zohoDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}
