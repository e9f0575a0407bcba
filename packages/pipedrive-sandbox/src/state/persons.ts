import { badRequest } from "../http/errors.js";
import type { PersonFields } from "./person-fields.js";

export interface ContactItem {
  value: string;
  primary: boolean;
  label: string;
}

export interface PersonRecord {
  id: number;
  name: string;
  first_name: string | null;
  last_name: string | null;
  owner_id: number;
  org_id: number | null;
  emails: ContactItem[];
  phones: ContactItem[];
  job_title: string | null;
  notes: string | null;
  birthday: string | null;
  visible_to: number;
  label_ids: number[];
  marketing_status: string | null;
  custom_fields: Record<string, unknown>;
  add_time: number;
  update_time: number;
  is_deleted: boolean;
  /** when search sees the current state (Pipedrive's search index lags writes) */
  indexed_at: number;
}

/** A v2 person create or update body (`AddPersonRequest` / `UpdatePersonRequest`), validated by the routes. */
export interface PersonInput {
  name?: string | undefined;
  owner_id?: number | undefined;
  org_id?: number | null | undefined;
  emails?: { value: string; primary?: boolean | undefined; label?: string | undefined }[] | undefined;
  phones?: { value: string; primary?: boolean | undefined; label?: string | undefined }[] | undefined;
  job_title?: string | null | undefined;
  notes?: string | null | undefined;
  birthday?: string | null | undefined;
  visible_to?: number | undefined;
  label_ids?: number[] | undefined;
  marketing_status?: string | undefined;
  custom_fields?: Record<string, unknown> | undefined;
  add_time?: string | undefined;
}

/** The fields whose change a webhook's `previous` reports (what the v2 payload carries). */
export const TRACKED_FIELDS = ["name", "first_name", "last_name", "owner_id", "org_id", "emails", "phones", "job_title", "notes", "birthday", "visible_to", "label_ids", "marketing_status"] as const;
type TrackedField = (typeof TRACKED_FIELDS)[number];

/** Pipedrive splits a person's name into first and last name (first word / the rest). */
export function splitName(name: string): { first_name: string | null; last_name: string | null } {
  const trimmed = name.trim();
  const space = trimmed.indexOf(" ");
  if (space < 0) return { first_name: trimmed || null, last_name: null };
  return { first_name: trimmed.slice(0, space), last_name: trimmed.slice(space + 1).trim() || null };
}

function items(input: { value: string; primary?: boolean | undefined; label?: string | undefined }[], kind: string): ContactItem[] {
  const list = input.filter((i) => i.value.trim() !== "").map((i) => ({ value: i.value.trim(), primary: i.primary ?? false, label: i.label ?? "work" }));
  if (list.filter((i) => i.primary).length > 1) throw badRequest(`Only one ${kind} can be primary`);
  const first = list[0];
  if (first && !list.some((i) => i.primary)) first.primary = true;
  return list;
}

/** Checks custom field keys against the account's person fields; null clears. */
function customValues(input: Record<string, unknown>, fields: PersonFields): Record<string, unknown> {
  for (const [key, value] of Object.entries(input)) {
    const field = fields.custom(key);
    if (!field) throw badRequest(`Custom field with key '${key}' does not exist`);
    if (value === null) continue;
    if (["varchar", "varchar_auto", "text", "phone"].includes(field.field_type)) {
      if (typeof value !== "string") throw badRequest(`Custom field '${key}' expects a string`);
      if (field.field_type === "varchar" && value.length > 255) throw badRequest(`Custom field '${key}' is longer than 255 characters`);
    } else if (field.field_type === "double" && typeof value !== "number") throw badRequest(`Custom field '${key}' expects a number`);
  }
  return input;
}

export class PersonStore {
  private readonly byId = new Map<number, PersonRecord>();

  constructor(
    private readonly fields: PersonFields,
    private readonly nextId: () => number,
  ) {}

  get(id: number): PersonRecord | undefined {
    return this.byId.get(id);
  }

  /** Puts a snapshot's persons back (deleted ones included). */
  restoreSnapshot(persons: readonly PersonRecord[]): void {
    for (const person of persons) this.byId.set(person.id, person);
  }

  live(): PersonRecord[] {
    return [...this.byId.values()].filter((p) => !p.is_deleted);
  }

  all(): PersonRecord[] {
    return [...this.byId.values()];
  }

  create(input: PersonInput, ownerId: number, now: number, indexDelayMs: number): PersonRecord {
    if (!input.name || input.name.trim() === "") throw badRequest("Name is required");
    const record: PersonRecord = {
      id: this.nextId(),
      name: input.name.trim(),
      ...splitName(input.name),
      owner_id: input.owner_id ?? ownerId,
      org_id: input.org_id ?? null,
      emails: items(input.emails ?? [], "email"),
      phones: items(input.phones ?? [], "phone"),
      job_title: input.job_title ?? null,
      notes: input.notes ?? null,
      birthday: input.birthday ?? null,
      visible_to: input.visible_to ?? 3,
      label_ids: input.label_ids ?? [],
      marketing_status: input.marketing_status ?? null,
      custom_fields: {},
      add_time: input.add_time ? Date.parse(input.add_time) : now,
      update_time: now,
      is_deleted: false,
      indexed_at: now + indexDelayMs,
    };
    for (const [key, value] of Object.entries(customValues(input.custom_fields ?? {}, this.fields))) if (value !== null) record.custom_fields[key] = value;
    this.byId.set(record.id, record);
    return record;
  }

  /** Applies an update; returns the previous values of exactly the fields that changed (empty: nothing changed). */
  update(record: PersonRecord, input: PersonInput, now: number, indexDelayMs: number): Partial<Record<TrackedField | "custom_fields", unknown>> {
    const before = structuredClone(record);
    if (input.name !== undefined) {
      if (input.name.trim() === "") throw badRequest("Name cannot be empty");
      record.name = input.name.trim();
      Object.assign(record, splitName(input.name));
    }
    if (input.owner_id !== undefined) record.owner_id = input.owner_id;
    if (input.org_id !== undefined) record.org_id = input.org_id;
    if (input.emails !== undefined) record.emails = items(input.emails, "email");
    if (input.phones !== undefined) record.phones = items(input.phones, "phone");
    if (input.job_title !== undefined) record.job_title = input.job_title;
    if (input.notes !== undefined) record.notes = input.notes;
    if (input.birthday !== undefined) record.birthday = input.birthday;
    if (input.visible_to !== undefined) record.visible_to = input.visible_to;
    if (input.label_ids !== undefined) record.label_ids = input.label_ids;
    if (input.marketing_status !== undefined) record.marketing_status = input.marketing_status;
    const previousCustom: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(customValues(input.custom_fields ?? {}, this.fields))) {
      const old = record.custom_fields[key] ?? null;
      if (JSON.stringify(old) === JSON.stringify(value)) continue;
      previousCustom[key] = old;
      if (value === null) delete record.custom_fields[key];
      else record.custom_fields[key] = value;
    }
    const previous: Partial<Record<TrackedField | "custom_fields", unknown>> = {};
    for (const field of TRACKED_FIELDS) {
      if (JSON.stringify(before[field]) !== JSON.stringify(record[field])) previous[field] = before[field];
    }
    if (Object.keys(previousCustom).length > 0) previous.custom_fields = previousCustom;
    if (Object.keys(previous).length > 0) {
      record.update_time = now;
      record.indexed_at = now + indexDelayMs;
    }
    return previous;
  }

  remove(record: PersonRecord, now: number): void {
    record.is_deleted = true;
    record.update_time = now;
  }
}

/** The first email marked primary (else the first), as a lower-cased string. */
export function primaryEmail(record: Pick<PersonRecord, "emails">): string | undefined {
  return (record.emails.find((e) => e.primary) ?? record.emails[0])?.value.toLowerCase();
}
