import { DEFAULT_HUBSPOT_FIELD_MAPPING, LEAD_FIELDS, LEAD_SOURCE_PROPERTY, type FieldMapping, type LeadField } from "./lead-fields.js";

/**
 * The per-integration field mapping lives in `settings.fieldMapping` ({ leadField: crmProperty }, partial);
 * fields it leaves out keep HubSpot's default property. Inbound reads and outbound writes both go through it.
 */

function settingsObject(settings: unknown): Record<string, unknown> {
  return typeof settings === "object" && settings !== null && !Array.isArray(settings) ? (settings as Record<string, unknown>) : {};
}

/** The integration's mapping (anything with a `settings` JSON column), the provider's defaults filled in. */
export function fieldMappingOf(integration: { settings: unknown }, defaults: FieldMapping = DEFAULT_HUBSPOT_FIELD_MAPPING): FieldMapping {
  const custom = settingsObject(settingsObject(integration.settings)["fieldMapping"]);
  const mapping: Record<LeadField, string> = { ...defaults };
  for (const field of LEAD_FIELDS) {
    const property = custom[field];
    if (typeof property === "string" && property.trim() !== "") mapping[field] = property.trim();
  }
  return Object.freeze(mapping);
}

/** The properties a contact read needs: the mapped ones and the origin marker (the provider's marker field). */
export function propertiesToRead(mapping: FieldMapping, markerField: string = LEAD_SOURCE_PROPERTY): string[] {
  return [...new Set([...Object.values(mapping), markerField])];
}

/** The lead field a CRM property maps to, if any. */
export function fieldOfProperty(mapping: FieldMapping, property: string): LeadField | undefined {
  return LEAD_FIELDS.find((field) => mapping[field] === property);
}

/** Why a mapping cannot be used, or null: two fields on one property, or the marker property taken by a field. */
export function fieldMappingProblem(mapping: FieldMapping, markerField: string = LEAD_SOURCE_PROPERTY): string | null {
  const seen = new Map<string, LeadField>();
  for (const field of LEAD_FIELDS) {
    const property = mapping[field];
    if (property === markerField) return `${field} cannot map to ${markerField}: it marks the contact's origin`;
    const other = seen.get(property);
    if (other) return `${other} and ${field} both map to the property ${property}`;
    seen.set(property, field);
  }
  return null;
}

export const CONFLICT_RULES = ["latest_wins", "prefer_platform", "prefer_crm"] as const;
export type ConflictRule = (typeof CONFLICT_RULES)[number];

export const CONTACT_DELETED_POLICIES = ["keep", "archive"] as const;
export type ContactDeletedPolicy = (typeof CONTACT_DELETED_POLICIES)[number];

/** `settings.conflictRule`, latest_wins unless set to another known rule. */
export function conflictRuleOf(integration: { settings: unknown }): ConflictRule {
  const rule = settingsObject(integration.settings)["conflictRule"];
  return (CONFLICT_RULES as readonly unknown[]).includes(rule) ? (rule as ConflictRule) : "latest_wins";
}

/** `settings.onContactDeleted`: keep (default) or archive the lead of a deleted contact. */
export function contactDeletedPolicyOf(integration: { settings: unknown }): ContactDeletedPolicy {
  return settingsObject(integration.settings)["onContactDeleted"] === "archive" ? "archive" : "keep";
}
