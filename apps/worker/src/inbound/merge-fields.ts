import { DEFAULT_HUBSPOT_FIELD_MAPPING, LEAD_FIELDS, type FieldMapping, type LeadField, type LeadFieldValues } from "@leadsync/core";

/** The lead columns the sync reads and writes, plus the per-field versions (ms epoch). */
export interface LeadState {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  company: string | null;
  jobTitle: string | null;
  fieldVersions: Record<string, number>;
}

export interface FieldMerge {
  changes: LeadFieldValues;
  fieldVersions: Record<string, number>;
}

/**
 * Which of a contact's values reach the lead. A value is applied when it differs from the lead's, is not an
 * echo of what we last pushed to the CRM (then the lead is the newer side), and comes from a read at least as
 * new as the change that set the lead's field (reads of one contact can finish out of order). Empty CRM values
 * never blank a lead field.
 */
export function mergeContactIntoLead(
  lead: LeadState,
  contactFields: LeadFieldValues,
  contactUpdatedAt: number,
  lastPushed: Readonly<Record<string, unknown>>,
  mapping: FieldMapping = DEFAULT_HUBSPOT_FIELD_MAPPING,
): FieldMerge {
  const changes: LeadFieldValues = {};
  const fieldVersions = { ...lead.fieldVersions };
  for (const field of LEAD_FIELDS) {
    const value = contactFields[field];
    if (value === undefined || value === null) continue;
    if (value === lead[field]) continue;
    if (lastPushed[mapping[field]] === value) continue;
    if ((lead.fieldVersions[field] ?? 0) > contactUpdatedAt) continue;
    changes[field] = value;
    fieldVersions[field] = contactUpdatedAt;
  }
  return { changes, fieldVersions };
}

/** Field versions for a lead created from a contact: every field as of the contact's read. */
export function initialFieldVersions(fields: LeadFieldValues, version: number): Record<string, number> {
  const versions: Record<string, number> = {};
  for (const field of Object.keys(fields) as LeadField[]) {
    if (fields[field] !== undefined && fields[field] !== null) versions[field] = version;
  }
  return versions;
}

/** The lead with the merged values (a merge never sets a field to null). */
export function withChanges(lead: LeadState, merge: FieldMerge): LeadState {
  const next: LeadState = { ...lead, fieldVersions: merge.fieldVersions };
  for (const field of LEAD_FIELDS) {
    const value = merge.changes[field];
    if (value !== undefined && value !== null) next[field] = value;
  }
  return next;
}

export function hasChanges(changes: LeadFieldValues): boolean {
  return Object.keys(changes).length > 0;
}
