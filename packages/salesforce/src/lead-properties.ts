import { LEAD_SOURCE_PROPERTY, normalizeEmail } from "@leadsync/core";
import type { CrmContact } from "@leadsync/core";
import { PLACEHOLDER, REQUIRED_LEAD_FIELDS } from "./constants.js";
import { parseSalesforceDateTime } from "./soql.js";

/**
 * Between the sync's flat properties and Lead fields. Two Salesforce rules live here:
 * - `LastName` and `Company` are required. A create without them gets the placeholder; an update never sends a
 *   blank or the placeholder for them (Salesforce would refuse the blank, and the placeholder would overwrite what
 *   a person typed). Read back, the placeholder is "no value", so it never reaches a lead.
 * - The origin marker may arrive under core's provider-neutral name (`lead_source_system`); it is written to and
 *   read from the org's marker field.
 */

const REQUIRED = new Set<string>(REQUIRED_LEAD_FIELDS);

/** The Lead field a requested property stands for. */
export function leadFieldOf(property: string, markerField: string): string {
  return property === LEAD_SOURCE_PROPERTY ? markerField : property;
}

/** The body of a Lead create: the input's properties, its email, and placeholders for missing required fields. */
export function createBody(properties: Readonly<Record<string, string>>, email: string, markerField: string): Record<string, string> {
  const body = renamed(properties, markerField);
  if (!hasKey(body, "Email")) body["Email"] = normalizeEmail(email);
  for (const field of REQUIRED_LEAD_FIELDS) {
    const value = body[field];
    if (value === undefined || value.trim() === "") body[field] = PLACEHOLDER;
  }
  return body;
}

/** The body of a Lead update: exactly the given properties, minus blanks and placeholders for required fields. */
export function updateBody(properties: Readonly<Record<string, string>>, markerField: string): Record<string, string> {
  const body = renamed(properties, markerField);
  for (const field of REQUIRED_LEAD_FIELDS) {
    const value = body[field];
    if (value !== undefined && (value.trim() === "" || value === PLACEHOLDER)) delete body[field];
  }
  return body;
}

/**
 * A queried Lead (or the Contact it became) as the sync's record: the requested properties, keyed as requested.
 * A property whose field the query did not select (it does not exist in this org) is left out, not read as
 * cleared: SOQL answers every selected field, null included.
 */
export function toCrmContact(
  id: string,
  record: Readonly<Record<string, unknown>>,
  requested: readonly string[],
  markerField: string,
  updatedAt = parseSalesforceDateTime(record["SystemModstamp"]),
): CrmContact {
  const properties: Record<string, string | null> = {};
  for (const property of requested) {
    const field = leadFieldOf(property, markerField);
    if (hasField(record, field)) properties[property] = readValue(record, field);
  }
  return { id, properties, updatedAt: Number.isNaN(updatedAt) ? 0 : updatedAt };
}

/** A field's value as a string (booleans and numbers too), null when empty or our placeholder. */
export function readValue(record: Readonly<Record<string, unknown>>, field: string): string | null {
  const raw = pathValue(record, field);
  if (raw === undefined || raw === null) return null;
  const value = typeof raw === "string" ? raw : typeof raw === "number" || typeof raw === "boolean" ? String(raw) : null;
  if (value === null || value === "") return null;
  if (REQUIRED.has(field) && value === PLACEHOLDER) return null;
  return value;
}

/** `Account.Name` reads through the nested relationship object SOQL answers with. */
function pathValue(record: Readonly<Record<string, unknown>>, field: string): unknown {
  let current: unknown = record;
  for (const part of field.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    const entry = Object.entries(current as Record<string, unknown>).find(([key]) => key.toLowerCase() === part.toLowerCase());
    current = entry?.[1];
  }
  return current;
}

function hasField(record: Readonly<Record<string, unknown>>, field: string): boolean {
  const head = (field.split(".")[0] ?? field).toLowerCase();
  return Object.keys(record).some((key) => key.toLowerCase() === head);
}

function renamed(properties: Readonly<Record<string, string>>, markerField: string): Record<string, string> {
  const body: Record<string, string> = {};
  for (const [property, value] of Object.entries(properties)) body[leadFieldOf(property, markerField)] = value;
  return body;
}

function hasKey(body: Record<string, string>, field: string): boolean {
  return Object.keys(body).some((key) => key.toLowerCase() === field.toLowerCase());
}
