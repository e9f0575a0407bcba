import type { FieldMeta, LeadFields } from "./fields.js";
import { zohoTime } from "./zoho-time.js";

/** A Zoho user as records name it (`Owner`, `Created_By`, `Modified_By`). */
export interface ZohoUser {
  id: string;
  name: string;
  email: string;
}

export interface LeadRecord {
  id: string;
  values: Record<string, string | null>;
  createdAt: number;
  modifiedAt: number;
  createdBy: ZohoUser;
  modifiedBy: ZohoUser;
  owner: ZohoUser;
}

/** One record's outcome in a write's `data[]`, Zoho's shape. */
export type RecordResult =
  | { code: "SUCCESS"; details: Record<string, unknown>; message: string; status: "success"; action?: "insert" | "update"; duplicate_field?: string | null }
  | { code: string; details: Record<string, unknown>; message: string; status: "error" };

export type Operation = "insert" | "update" | "delete";

/** What a write changed, for the notification channels. */
export interface RecordChangeNote {
  id: string;
  operation: Operation;
  affectedFields: string[];
}

export interface WriteOutcome {
  results: RecordResult[];
  changes: RecordChangeNote[];
}

export interface LeadRules {
  /** Company is mandatory on the default layout (UNCERTAIN whether the API enforces it: see README). */
  companyMandatory: boolean;
}

type FieldError = { code: string; details: Record<string, unknown>; message: string; status: "error" };

const SYSTEM_KEYS = new Set(["id", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "Owner", "Tag"]);

/** One org's Leads: validation, duplicate checks and writes as Zoho's records API performs them. */
export class LeadStore {
  readonly records = new Map<string, LeadRecord>();

  constructor(
    private readonly fields: LeadFields,
    private readonly rules: () => LeadRules,
    private readonly nextId: () => string,
    private readonly clock: () => number = Date.now,
  ) {}

  insert(data: readonly unknown[], actor: ZohoUser): WriteOutcome {
    const outcome: WriteOutcome = { results: [], changes: [] };
    data.forEach((item, index) => {
      const errors = this.validate(item, index, "insert", undefined);
      if (errors.values === undefined) return void outcome.results.push(oneOrMany(errors.errors));
      const record = this.create(errors.values, actor);
      outcome.results.push(success(record, "record added"));
      outcome.changes.push({ id: record.id, operation: "insert", affectedFields: [] });
    });
    return outcome;
  }

  update(data: readonly unknown[], actor: ZohoUser, idOverride?: string): WriteOutcome {
    const outcome: WriteOutcome = { results: [], changes: [] };
    data.forEach((item, index) => {
      const id = idOverride ?? (isObject(item) && typeof item["id"] === "string" ? item["id"] : undefined);
      if (id === undefined) return void outcome.results.push(fieldError("MANDATORY_NOT_FOUND", "required field not found", "id", index));
      const record = this.records.get(id);
      if (!record) return void outcome.results.push(fieldError("INVALID_DATA", "the id given seems to be invalid", "id", index));
      const checked = this.validate(item, index, "update", record);
      if (checked.values === undefined) return void outcome.results.push(oneOrMany(checked.errors));
      outcome.changes.push({ id, operation: "update", affectedFields: this.apply(record, checked.values, actor) });
      outcome.results.push(success(record, "record updated"));
    });
    return outcome;
  }

  /** Upsert: matched by the first `duplicateCheckFields` value that finds a record (default Email), else inserted. */
  upsert(data: readonly unknown[], duplicateCheckFields: readonly string[], actor: ZohoUser): WriteOutcome {
    const outcome: WriteOutcome = { results: [], changes: [] };
    data.forEach((item, index) => {
      const match = isObject(item) ? this.findDuplicate(item, duplicateCheckFields) : undefined;
      if (match) {
        const checked = this.validate(item, index, "update", match.record);
        if (checked.values === undefined) return void outcome.results.push(oneOrMany(checked.errors));
        const affected = this.apply(match.record, checked.values, actor);
        outcome.results.push({ ...success(match.record, "record updated"), action: "update", duplicate_field: match.field });
        outcome.changes.push({ id: match.record.id, operation: "update", affectedFields: affected });
        return;
      }
      const checked = this.validate(item, index, "insert", undefined);
      if (checked.values === undefined) return void outcome.results.push(oneOrMany(checked.errors));
      const record = this.create(checked.values, actor);
      outcome.results.push({ ...success(record, "record added"), action: "insert", duplicate_field: null });
      outcome.changes.push({ id: record.id, operation: "insert", affectedFields: [] });
    });
    return outcome;
  }

  delete(ids: readonly string[]): WriteOutcome {
    const outcome: WriteOutcome = { results: [], changes: [] };
    for (const id of ids) {
      if (!this.records.delete(id)) {
        outcome.results.push({ code: "INVALID_DATA", details: { id }, message: "record not deleted", status: "error" });
        continue;
      }
      outcome.results.push({ code: "SUCCESS", details: { id }, message: "record deleted", status: "success" });
      outcome.changes.push({ id, operation: "delete", affectedFields: [] });
    }
    return outcome;
  }

  byEmail(email: string): LeadRecord[] {
    const wanted = email.trim().toLowerCase();
    return [...this.records.values()].filter((r) => r.values["Email"]?.toLowerCase() === wanted);
  }

  /** The record as the API returns it: `fields` (plus id) or every field. */
  serialize(record: LeadRecord, fields?: readonly string[]): Record<string, unknown> {
    const full: Record<string, unknown> = {
      ...Object.fromEntries(this.fields.list().filter((f) => !f.read_only && f.api_name !== "Owner").map((f) => [f.api_name, record.values[f.api_name] ?? null])),
      Owner: record.owner,
      Created_Time: zohoTime(record.createdAt),
      Modified_Time: zohoTime(record.modifiedAt),
      Created_By: { name: record.createdBy.name, id: record.createdBy.id, email: record.createdBy.email },
      Modified_By: { name: record.modifiedBy.name, id: record.modifiedBy.id, email: record.modifiedBy.email },
      id: record.id,
    };
    if (!fields) return full;
    const picked: Record<string, unknown> = {};
    for (const field of fields) if (field in full) picked[field] = full[field];
    picked["id"] = record.id;
    return picked;
  }

  private create(values: Record<string, string | null>, actor: ZohoUser): LeadRecord {
    const now = this.clock();
    const record: LeadRecord = { id: this.nextId(), values, createdAt: now, modifiedAt: now, createdBy: actor, modifiedBy: actor, owner: actor };
    this.records.set(record.id, record);
    return record;
  }

  /** Writes the values; returns the fields whose value changed. Every update stamps Modified_Time/By, as Zoho does. */
  private apply(record: LeadRecord, values: Record<string, string | null>, actor: ZohoUser): string[] {
    const affected: string[] = [];
    for (const [field, value] of Object.entries(values)) {
      if ((record.values[field] ?? null) !== value) affected.push(field);
      record.values[field] = value;
    }
    record.modifiedAt = this.clock();
    record.modifiedBy = actor;
    return affected;
  }

  private findDuplicate(item: Record<string, unknown>, checkFields: readonly string[]): { record: LeadRecord; field: string } | undefined {
    for (const field of checkFields) {
      const value = item[field];
      if (typeof value !== "string" || value === "") continue;
      const record = [...this.records.values()].find((r) => equalsFieldValue(field, r.values[field], value));
      if (record) return { record, field };
    }
    return undefined;
  }

  /** Field checks in Zoho's order: types and lengths, mandatory fields, then unique fields (duplicates). */
  private validate(item: unknown, index: number, mode: "insert" | "update", current: LeadRecord | undefined):
    | { values: Record<string, string | null>; errors?: undefined }
    | { values?: undefined; errors: FieldError[] } {
    if (!isObject(item)) return { errors: [fieldError("INVALID_DATA", "invalid data", "data", index)] };
    const errors: FieldError[] = [];
    const values: Record<string, string | null> = {};
    for (const [key, raw] of Object.entries(item)) {
      if (SYSTEM_KEYS.has(key) || key.startsWith("$")) continue;
      const meta = this.fields.byApiName(key);
      if (!meta) {
        errors.push(fieldError("INVALID_DATA", "invalid field", key, index));
        continue;
      }
      const value = raw === "" ? null : raw;
      if (value !== null && typeof value !== "string") {
        errors.push(fieldError("INVALID_DATA", "invalid data", key, index, { expected_data_type: meta.data_type }));
        continue;
      }
      const problem = value === null ? undefined : valueProblem(meta, value);
      if (problem) errors.push(fieldError("INVALID_DATA", "invalid data", key, index, problem));
      else values[key] = value;
    }
    const invalid = new Set(errors.map((e) => e.details["api_name"]));
    for (const mandatory of this.mandatoryFields()) {
      if (invalid.has(mandatory)) continue;
      const next = mandatory in values ? values[mandatory] : mode === "update" ? (current?.values[mandatory] ?? null) : null;
      if (next === null || next === undefined || next.trim() === "") errors.push(fieldError("MANDATORY_NOT_FOUND", "required field not found", mandatory, index));
    }
    for (const field of this.fields.list().filter((f) => f.unique)) {
      const value = values[field.api_name];
      if (value === null || value === undefined) continue;
      const duplicate = [...this.records.values()].find((r) => r.id !== current?.id && equalsFieldValue(field.api_name, r.values[field.api_name], value));
      if (duplicate) errors.push(duplicateError(field.api_name, index, duplicate));
    }
    return errors.length > 0 ? { errors } : { values };
  }

  private mandatoryFields(): string[] {
    return ["Last_Name", ...(this.rules().companyMandatory ? ["Company"] : [])];
  }
}

function equalsFieldValue(field: string, stored: string | null | undefined, value: string): boolean {
  if (stored === null || stored === undefined) return false;
  return field === "Email" ? stored.toLowerCase() === value.trim().toLowerCase() : stored === value;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function valueProblem(meta: FieldMeta, value: string): Record<string, unknown> | undefined {
  if (value.length > meta.length) return { maximum_length: meta.length };
  if (meta.data_type === "email" && !EMAIL.test(value)) return { expected_data_type: "email" };
  return undefined;
}

function success(record: LeadRecord, message: string): Extract<RecordResult, { status: "success" }> {
  return {
    code: "SUCCESS",
    details: {
      Modified_Time: zohoTime(record.modifiedAt),
      Modified_By: { name: record.modifiedBy.name, id: record.modifiedBy.id },
      Created_Time: zohoTime(record.createdAt),
      id: record.id,
      Created_By: { name: record.createdBy.name, id: record.createdBy.id },
      $approval_state: "approved",
    },
    message,
    status: "success",
  };
}

function fieldError(code: string, message: string, apiName: string, index: number, extra: Record<string, unknown> = {}): FieldError {
  return { code, details: { api_name: apiName, json_path: `$.data[${index}].${apiName}`, ...extra }, message, status: "error" };
}

function duplicateError(apiName: string, index: number, existing: LeadRecord): FieldError {
  return {
    code: "DUPLICATE_DATA",
    details: {
      api_name: apiName,
      json_path: `$.data[${index}].${apiName}`,
      // v8 names the record in `duplicate_record`; older versions put its id at `details.id` (both are sent).
      id: existing.id,
      duplicate_record: { id: existing.id, module: { api_name: "Leads", id: "leads-module" }, Owner: existing.owner },
      more_records: false,
    },
    message: "duplicate data",
    status: "error",
  };
}

/** Zoho wraps several errors of one record in MULTIPLE_OR_MULTI_ERRORS (shape UNCERTAIN: see README). */
function oneOrMany(errors: FieldError[]): FieldError {
  if (errors.length === 1) return errors[0] as FieldError;
  return { code: "MULTIPLE_OR_MULTI_ERRORS", details: { errors }, message: "multiple errors", status: "error" };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
