/** The lead fields that sync with a CRM, and HubSpot's default property for each. */
export const LEAD_FIELDS = ["email", "firstName", "lastName", "phone", "company", "jobTitle"] as const;
export type LeadField = (typeof LEAD_FIELDS)[number];

export type LeadFieldValues = { [K in LeadField]?: string | null };

/** lead field → CRM property. Per integration later (issue 6); these are HubSpot's defaults. */
export type FieldMapping = Readonly<Record<LeadField, string>>;

export const DEFAULT_HUBSPOT_FIELD_MAPPING: FieldMapping = Object.freeze({
  email: "email",
  firstName: "firstname",
  lastName: "lastname",
  phone: "phone",
  company: "company",
  jobTitle: "jobtitle",
});

/** The CRM property that marks where a contact originated (the setup guide's Step 1). */
export const LEAD_SOURCE_PROPERTY = "lead_source_system";

/** Emails compare case-insensitively and without surrounding blanks. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Lead fields from a CRM record's properties, through the mapping. Empty strings become null (HubSpot clears with ""). */
export function contactToLeadFields(
  properties: Readonly<Record<string, string | null | undefined>>,
  mapping: FieldMapping = DEFAULT_HUBSPOT_FIELD_MAPPING,
): LeadFieldValues {
  const out: LeadFieldValues = {};
  for (const field of LEAD_FIELDS) {
    const property = mapping[field];
    if (!(property in properties)) continue;
    const raw = properties[property];
    const value = raw === undefined || raw === null || raw.trim() === "" ? null : raw;
    out[field] = field === "email" && value !== null ? normalizeEmail(value) : value;
  }
  return out;
}

/** CRM properties for a lead's fields, through the mapping. Null fields are left out (we never blank a CRM value). */
export function leadToContactProperties(
  lead: LeadFieldValues,
  mapping: FieldMapping = DEFAULT_HUBSPOT_FIELD_MAPPING,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of LEAD_FIELDS) {
    const value = lead[field];
    if (value !== undefined && value !== null) out[mapping[field]] = value;
  }
  return out;
}
