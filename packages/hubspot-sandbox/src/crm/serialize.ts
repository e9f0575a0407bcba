import type { ContactRecord } from "../state/contacts.js";

/** What HubSpot returns when a read names no properties (hubspot-facts.md §4.3). */
export const DEFAULT_READ_PROPERTIES = ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"];
/** Always returned alongside the requested properties. */
const ALWAYS_RETURNED = ["createdate", "hs_object_id", "lastmodifieddate"];

/** A property's current value as HubSpot reports it (system properties derived from the record), or null. */
export function propertyValue(record: ContactRecord, name: string): string | null {
  switch (name) {
    case "hs_object_id":
      return record.id;
    case "lastmodifieddate":
    case "hs_lastmodifieddate":
      return new Date(record.updatedAt).toISOString();
    case "createdate":
      return record.properties.get("createdate") ?? new Date(record.createdAt).toISOString();
    default:
      return record.properties.get(name) ?? null;
  }
}

/** `SimplePublicObject`: `{id, properties, createdAt, updatedAt, archived, archivedAt?}`, all values strings. */
export function toPublicObject(record: ContactRecord, requested?: readonly string[]): Record<string, unknown> {
  const names = requested && requested.length > 0 ? new Set([...requested, ...ALWAYS_RETURNED]) : DEFAULT_READ_PROPERTIES;
  const properties: Record<string, string | null> = {};
  for (const name of names) properties[name] = propertyValue(record, name);
  return {
    id: record.id,
    properties,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archived,
    ...(record.archivedAt !== undefined && { archivedAt: new Date(record.archivedAt).toISOString() }),
  };
}

/** The `properties` query parameter: repeated or comma-separated. */
export function parsePropertyList(raw: string | string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  return list.length > 0 ? list : undefined;
}
