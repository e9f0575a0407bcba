import type { CrmContact, FieldMapping } from "@leadsync/core";

/**
 * Persons as the sync sees them: flat string properties. Pipedrive keeps emails and phones as lists (the primary
 * one is what we sync), the name as one string (split into first/last name by Pipedrive), the organisation as an id
 * (we sync its name), and custom fields under their 40-character keys.
 */
export const PERSON_PROPERTIES = {
  email: "email",
  phone: "phone",
  firstName: "first_name",
  lastName: "last_name",
  jobTitle: "job_title",
  company: "org_name",
} as const;

export const DEFAULT_PIPEDRIVE_FIELD_MAPPING: FieldMapping = Object.freeze({ ...PERSON_PROPERTIES });

/** A custom field's key: 40 hex characters. */
export const CUSTOM_FIELD_KEY = /^[0-9a-f]{40}$/;

export interface ContactItem {
  value?: string;
  primary?: boolean;
  label?: string;
}

/** A person as v2 reads and webhooks v2 carry it (the parts we use). */
export interface PersonLike {
  id?: number;
  name?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  org_id?: number | null;
  emails?: ContactItem[] | null;
  phones?: ContactItem[] | null;
  job_title?: string | null;
  update_time?: string | null;
  is_deleted?: boolean;
  custom_fields?: Record<string, unknown> | null;
}

export function primaryValue(items: ContactItem[] | null | undefined): string | null {
  const item = items?.find((i) => i.primary) ?? items?.[0];
  return item?.value ?? null;
}

/** API v2 custom values are plain; webhooks v2 wrap them as `{type, value}` (enums `{id, type}`). */
function customValue(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "object") {
    const wrapped = raw as { value?: unknown; id?: unknown };
    if ("value" in wrapped) return customValue(wrapped.value);
    if ("id" in wrapped) return customValue(wrapped.id);
    return JSON.stringify(raw);
  }
  return String(raw);
}

/** Flat properties of a person; `orgName` when the organisation was resolved. */
export function personProperties(person: PersonLike, orgName?: string | null): Record<string, string | null> {
  const properties: Record<string, string | null> = {
    [PERSON_PROPERTIES.email]: primaryValue(person.emails),
    [PERSON_PROPERTIES.phone]: primaryValue(person.phones),
    [PERSON_PROPERTIES.firstName]: person.first_name ?? null,
    [PERSON_PROPERTIES.lastName]: person.last_name ?? null,
    [PERSON_PROPERTIES.jobTitle]: person.job_title ?? null,
  };
  if (orgName !== undefined) properties[PERSON_PROPERTIES.company] = person.org_id === null || person.org_id === undefined ? null : orgName;
  for (const [key, raw] of Object.entries(person.custom_fields ?? {})) properties[key] = customValue(raw);
  return properties;
}

export function toCrmContact(person: PersonLike, orgName?: string | null): CrmContact {
  const updatedAt = person.update_time ? Date.parse(person.update_time) : 0;
  return {
    id: String(person.id),
    properties: personProperties(person, orgName),
    updatedAt: Number.isNaN(updatedAt) ? 0 : updatedAt,
    ...(person.is_deleted === undefined ? {} : { archived: person.is_deleted }),
  };
}

/** The v2 write body for flat properties (everything but the organisation, which needs a lookup). */
export interface PersonWrite {
  name?: string;
  emails?: { value: string; primary: boolean; label: string }[];
  phones?: { value: string; primary: boolean; label: string }[];
  job_title?: string | null;
  custom_fields?: Record<string, string | null>;
}

/** Which properties need the current person to be written (lists and the combined name). */
export function needsCurrent(properties: Readonly<Record<string, string>>): boolean {
  return [PERSON_PROPERTIES.email, PERSON_PROPERTIES.phone, PERSON_PROPERTIES.firstName, PERSON_PROPERTIES.lastName].some((p) => p in properties);
}

/** Replaces the primary item of a list (keeping the others), or starts the list. */
function withPrimary(items: ContactItem[] | null | undefined, value: string): { value: string; primary: boolean; label: string }[] {
  const others = (items ?? []).filter((i) => !i.primary && i.value !== undefined && i.value.toLowerCase() !== value.toLowerCase());
  const label = (items ?? []).find((i) => i.primary)?.label ?? "work";
  return [{ value, primary: true, label }, ...others.map((i) => ({ value: i.value as string, primary: false, label: i.label ?? "work" }))];
}

/**
 * The v2 body for `properties`. `current` is the person as it is (updates of lists and names); unknown property
 * names are left out (and reported) rather than failing the record.
 */
export function personWriteBody(properties: Readonly<Record<string, string>>, current: PersonLike | undefined): { body: PersonWrite; ignored: string[] } {
  const body: PersonWrite = {};
  const ignored: string[] = [];
  const first = properties[PERSON_PROPERTIES.firstName];
  const last = properties[PERSON_PROPERTIES.lastName];
  if (first !== undefined || last !== undefined) {
    const name = [first ?? current?.first_name ?? "", last ?? current?.last_name ?? ""].join(" ").trim();
    if (name !== "") body.name = name;
  }
  const email = properties[PERSON_PROPERTIES.email];
  if (email !== undefined && email.trim() !== "") body.emails = withPrimary(current?.emails, email.trim());
  const phone = properties[PERSON_PROPERTIES.phone];
  if (phone !== undefined && phone.trim() !== "") body.phones = withPrimary(current?.phones, phone.trim());
  const jobTitle = properties[PERSON_PROPERTIES.jobTitle];
  if (jobTitle !== undefined) body.job_title = jobTitle === "" ? null : jobTitle;
  for (const [key, value] of Object.entries(properties)) {
    if (CUSTOM_FIELD_KEY.test(key)) (body.custom_fields ??= {})[key] = value === "" ? null : value;
    else if (!(Object.values(PERSON_PROPERTIES) as string[]).includes(key)) ignored.push(key);
  }
  return { body, ignored };
}
