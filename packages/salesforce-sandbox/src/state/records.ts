import type { FieldValue, NewChangeEvent } from "../cdc/change-log.js";
import { DEFAULT_LEAD_STATUS, type FieldDef } from "./lead-fields.js";
import { fail, recordError, type RecordError, type SaveOutcome } from "./record-errors.js";

export type SObjectRecord = Record<string, FieldValue>;

/** Who writes, and how Salesforce would stamp the change event. */
export interface WriteContext {
  /** the acting user: LastModifiedById and the event's commitUser */
  userId: string;
  /** the CDC changeOrigin: `com/salesforce/api/rest/59.0;client=leadsync`, or "" for UI edits */
  changeOrigin: string;
  /** `Sforce-Duplicate-Rule-Header: allowSave=true` */
  allowSave: boolean;
  now: number;
}

/** A validated change, applied only when the whole transaction is valid (allOrNone). */
export interface PendingWrite {
  id: string;
  before: SObjectRecord | undefined;
  after: SObjectRecord;
  event: NewChangeEvent;
}

export type SObjectName = "Lead" | "Contact";

/** The sObjects the sandbox serves: Lead (synced, CDC) and Contact (where a converted lead's person lives). */
export const SOBJECTS: readonly SObjectName[] = ["Lead", "Contact"];

export interface SObjectStoreHost {
  objectName: SObjectName;
  fields(): FieldDef[];
  nextId(): string;
  /** the org's duplicate rule on Email is active */
  duplicateRuleActive(): boolean;
  defaultOwnerId(): string;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** `2026-12-03T06:40:00.000+0000`, the REST API's datetime format */
export function sfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+0000");
}

/** One org's records of one sObject (Lead, Contact), with Salesforce's field validation, duplicate rule and change events. */
export class SObjectStore {
  readonly records = new Map<string, SObjectRecord>();

  constructor(private readonly host: SObjectStoreHost) {}

  get objectName(): SObjectName {
    return this.host.objectName;
  }

  fields(): FieldDef[] {
    return this.host.fields();
  }

  field(name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return this.host.fields().find((f) => f.name.toLowerCase() === lower);
  }

  get(id: string): SObjectRecord | undefined {
    return this.records.get(id);
  }

  /** live (not deleted) leads whose field equals the value; text comparison is case-insensitive as in SOQL */
  findBy(field: string, value: string): SObjectRecord[] {
    const needle = value.toLowerCase();
    return [...this.records.values()].filter((r) => r["IsDeleted"] !== true && typeof r[field] === "string" && (r[field] as string).toLowerCase() === needle);
  }

  prepareCreate(body: Record<string, unknown>, ctx: WriteContext): SaveOutcome<PendingWrite> {
    const checked = this.checkBody(body, "create");
    if (!checked.ok) return checked;
    const values = checked.value;
    const missing = this.host
      .fields()
      .filter((f) => !f.nillable && f.createable && !f.defaultedOnCreate && (values[f.name] === undefined || values[f.name] === null || values[f.name] === ""))
      .map((f) => f.name);
    if (missing.length > 0) return fail(recordError("REQUIRED_FIELD_MISSING", `Required fields are missing: [${missing.join(", ")}]`, missing));
    const duplicate = this.duplicateCheck(values, undefined, ctx);
    if (duplicate) return fail(duplicate);

    const id = this.host.nextId();
    const stamp = sfDateTime(ctx.now);
    const after: SObjectRecord = {};
    for (const f of this.host.fields()) after[f.name] = null;
    Object.assign(after, values, {
      Id: id,
      IsDeleted: false,
      ...(this.host.objectName === "Lead" && { IsConverted: false, Status: values["Status"] ?? DEFAULT_LEAD_STATUS }),
      OwnerId: values["OwnerId"] ?? this.host.defaultOwnerId(),
      CreatedDate: stamp,
      CreatedById: ctx.userId,
      LastModifiedDate: stamp,
      LastModifiedById: ctx.userId,
      SystemModstamp: stamp,
    });
    after["Name"] = fullName(after);
    const eventFields = Object.fromEntries(Object.entries(after).filter(([name, v]) => v !== null && name !== "Id" && name !== "Name" && name !== "SystemModstamp" && name !== "IsDeleted"));
    return {
      ok: true,
      value: { id, before: undefined, after, event: this.event("CREATE", id, ctx, { fields: eventFields }) },
    };
  }

  prepareUpdate(id: string, body: Record<string, unknown>, ctx: WriteContext): SaveOutcome<PendingWrite> {
    const before = this.records.get(id);
    if (!before) return fail(recordError("ENTITY_IS_DELETED", "entity is deleted"));
    if (before["IsDeleted"] === true) return fail(recordError("ENTITY_IS_DELETED", "entity is deleted"));
    if (before["IsConverted"] === true) return fail(recordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead"));
    const checked = this.checkBody(body, "update");
    if (!checked.ok) return checked;
    const values = checked.value;
    const cleared = this.host.fields().filter((f) => !f.nillable && f.name in values && (values[f.name] === null || values[f.name] === "")).map((f) => f.name);
    if (cleared.length > 0) return fail(recordError("REQUIRED_FIELD_MISSING", `Required fields are missing: [${cleared.join(", ")}]`, cleared));
    const duplicate = this.duplicateCheck(values, id, ctx);
    if (duplicate) return fail(duplicate);

    const stamp = sfDateTime(ctx.now);
    const after: SObjectRecord = { ...before, ...values, LastModifiedDate: stamp, LastModifiedById: ctx.userId, SystemModstamp: stamp };
    after["Name"] = fullName(after);
    // Salesforce stamps an update even when no value changed; the change event lists what did change
    const changed = Object.keys(values).filter((name) => before[name] !== after[name]);
    const eventFields: Record<string, FieldValue> = {};
    for (const name of changed) eventFields[name] = after[name] ?? null;
    eventFields["LastModifiedDate"] = stamp;
    if (before["LastModifiedById"] !== ctx.userId) eventFields["LastModifiedById"] = ctx.userId;
    const changedFields = Object.keys(eventFields);
    const nulledFields = changed.filter((name) => after[name] === null);
    return { ok: true, value: { id, before, after, event: this.event("UPDATE", id, ctx, { fields: eventFields, changedFields, nulledFields }) } };
  }

  prepareDelete(id: string, ctx: WriteContext): SaveOutcome<PendingWrite> {
    const before = this.records.get(id);
    if (!before || before["IsDeleted"] === true) return fail(recordError("ENTITY_IS_DELETED", "entity is deleted"));
    const stamp = sfDateTime(ctx.now);
    const after: SObjectRecord = { ...before, IsDeleted: true, SystemModstamp: stamp, LastModifiedById: ctx.userId };
    return { ok: true, value: { id, before, after, event: this.event("DELETE", id, ctx, { fields: {} }) } };
  }

  prepareUndelete(id: string, ctx: WriteContext): SaveOutcome<PendingWrite> {
    const before = this.records.get(id);
    if (!before) return fail(recordError("INVALID_ID_FIELD", "invalid record id"));
    if (before["IsDeleted"] !== true) return fail(recordError("UNDELETE_FAILED", "Entity is not in the recycle bin"));
    const stamp = sfDateTime(ctx.now);
    const after: SObjectRecord = { ...before, IsDeleted: false, SystemModstamp: stamp, LastModifiedDate: stamp, LastModifiedById: ctx.userId };
    const fields = Object.fromEntries(Object.entries(after).filter(([name, v]) => v !== null && name !== "Id" && name !== "Name" && name !== "SystemModstamp" && name !== "IsDeleted"));
    return { ok: true, value: { id, before, after, event: this.event("UNDELETE", id, ctx, { fields }) } };
  }

  /** Conversion (admin): IsConverted, ConvertedDate, ConvertedContactId and Status change in one UPDATE event. */
  prepareConvert(id: string, contactId: string, ctx: WriteContext): SaveOutcome<PendingWrite> {
    const before = this.records.get(id);
    if (!before || before["IsDeleted"] === true) return fail(recordError("ENTITY_IS_DELETED", "entity is deleted"));
    if (before["IsConverted"] === true) return fail(recordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead"));
    const stamp = sfDateTime(ctx.now);
    const converted = { IsConverted: true, ConvertedDate: stamp, ConvertedContactId: contactId, Status: "Closed - Converted" };
    const after: SObjectRecord = { ...before, ...converted, LastModifiedDate: stamp, LastModifiedById: ctx.userId, SystemModstamp: stamp };
    const fields: Record<string, FieldValue> = { ...converted, LastModifiedDate: stamp };
    if (before["LastModifiedById"] !== ctx.userId) fields["LastModifiedById"] = ctx.userId;
    return { ok: true, value: { id, before, after, event: this.event("UPDATE", id, ctx, { fields, changedFields: Object.keys(fields) }) } };
  }

  apply(write: PendingWrite): void {
    this.records.set(write.id, write.after);
  }

  /** Drops the field's values when a custom field is created (new fields start null on every record). */
  addField(name: string): void {
    for (const record of this.records.values()) record[name] ??= null;
  }

  private event(
    changeType: NewChangeEvent["changeType"],
    id: string,
    ctx: WriteContext,
    parts: { fields: Record<string, FieldValue>; changedFields?: string[]; nulledFields?: string[] },
  ): NewChangeEvent {
    return {
      entityName: this.host.objectName,
      changeType,
      recordIds: [id],
      changeOrigin: ctx.changeOrigin,
      commitUser: ctx.userId,
      changedFields: parts.changedFields ?? [],
      nulledFields: parts.nulledFields ?? [],
      diffFields: [],
      fields: parts.fields,
    };
  }

  /** Field names, writability, types, lengths and picklists, as Salesforce checks a create/update body. */
  private checkBody(body: Record<string, unknown>, mode: "create" | "update"): SaveOutcome<Record<string, FieldValue>> {
    const byName = new Map(this.host.fields().map((f) => [f.name.toLowerCase(), f]));
    const values: Record<string, FieldValue> = {};
    const readOnly: string[] = [];
    const errors: RecordError[] = [];
    for (const [key, raw] of Object.entries(body)) {
      if (key === "attributes") continue;
      const def = byName.get(key.toLowerCase());
      if (!def) return fail(recordError("INVALID_FIELD", `No such column '${key}' on sobject of type ${this.host.objectName}`, [key]));
      if (mode === "create" ? !def.createable : !def.updateable) {
        readOnly.push(def.name);
        continue;
      }
      const value = raw === undefined ? null : raw;
      if (value !== null && typeof value !== "string" && typeof value !== "boolean" && typeof value !== "number") {
        errors.push(recordError("JSON_PARSER_ERROR", `Cannot deserialize instance of ${def.type} from ${Array.isArray(value) ? "START_ARRAY" : "START_OBJECT"} value`, [def.name]));
        continue;
      }
      const normalized: FieldValue = typeof value === "number" ? String(value) : value === "" ? null : value;
      const problem = this.checkValue(def, normalized);
      if (problem) errors.push(problem);
      values[def.name] = normalized;
    }
    if (readOnly.length > 0) {
      return fail(
        recordError(
          "INVALID_FIELD_FOR_INSERT_UPDATE",
          `Unable to create/update fields: ${readOnly.join(", ")}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          readOnly,
        ),
      );
    }
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, value: values };
  }

  private checkValue(def: FieldDef, value: FieldValue): RecordError | undefined {
    if (value === null) return undefined;
    if (def.type === "boolean") return typeof value === "boolean" ? undefined : recordError("INVALID_TYPE_ON_FIELD_IN_RECORD", `${def.label}: value not of required type: ${String(value)}`, [def.name]);
    if (typeof value !== "string") return recordError("INVALID_TYPE_ON_FIELD_IN_RECORD", `${def.label}: value not of required type: ${String(value)}`, [def.name]);
    if (def.length > 0 && value.length > def.length) {
      return recordError("STRING_TOO_LONG", `${def.label}: data value too large: ${value.slice(0, 40)} (max length=${def.length})`, [def.name]);
    }
    if (def.type === "email" && !EMAIL_RE.test(value)) return recordError("INVALID_EMAIL_ADDRESS", `${def.label}: invalid email address: ${value}`, [def.name]);
    if (def.restrictedPicklist && def.picklistValues && !def.picklistValues.some((p) => p.value === value)) {
      return recordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", `${def.label}: bad value for restricted picklist field: ${value}`, [def.name]);
    }
    return undefined;
  }

  /** The org's active matching rule: exact, case-insensitive Email against live, unconverted leads. */
  private duplicateCheck(values: Record<string, FieldValue>, selfId: string | undefined, ctx: WriteContext): RecordError | undefined {
    if (!this.host.duplicateRuleActive() || ctx.allowSave) return undefined;
    const email = values["Email"];
    if (typeof email !== "string") return undefined;
    const matches = this.findBy("Email", email).filter((r) => r["Id"] !== selfId && r["IsConverted"] !== true);
    if (matches.length === 0) return undefined;
    const message = "You're creating a duplicate record. We recommend you use an existing record instead.";
    const error = recordError("DUPLICATES_DETECTED", message);
    error.duplicateResult = {
      allowSave: true,
      duplicateRule: "Standard_Lead_Duplicate_Rule",
      duplicateRuleEntityType: "Lead",
      errorMessage: message,
      matchResults: [
        {
          entityType: "Lead",
          errors: [],
          matchEngine: "ExactMatchEngine",
          matchRecords: matches.map((r) => ({
            additionalInformation: [],
            fieldDiffs: [],
            matchConfidence: 100,
            record: { attributes: { type: "Lead", url: `/services/data/v59.0/sobjects/Lead/${String(r["Id"])}` }, Id: r["Id"] },
          })),
          rule: "Standard_Lead_Match_Rule_v1_0",
          size: matches.length,
          success: true,
        },
      ],
    };
    return error;
  }
}

function fullName(record: SObjectRecord): string {
  return [record["Salutation"], record["FirstName"], record["LastName"]].filter((p): p is string => typeof p === "string" && p !== "").join(" ");
}
