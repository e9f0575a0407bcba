import { createHash } from "node:crypto";
import avro from "avsc";
import type { FieldDef } from "../state/lead-fields.js";
import type { ChangeEvent, FieldValue } from "./change-log.js";

/** Fields that a change event does not carry: the id is in the header's recordIds, Name is the compound below. */
const NOT_IN_EVENT = new Set(["Id", "IsDeleted", "Name", "SystemModstamp"]);
const NAME_COMPOUND = "Name";

export const CHANGE_TYPES = ["CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW", "SNAPSHOT"];

const CHANGE_EVENT_HEADER = {
  type: "record",
  name: "ChangeEventHeader",
  namespace: "com.sforce.eventbus",
  fields: [
    { name: "entityName", type: "string" },
    { name: "recordIds", type: { type: "array", items: "string" } },
    { name: "changeType", type: { type: "enum", name: "ChangeType", namespace: "com.sforce.eventbus", symbols: CHANGE_TYPES } },
    { name: "changeOrigin", type: "string" },
    { name: "transactionKey", type: "string" },
    { name: "sequenceNumber", type: "int" },
    { name: "commitTimestamp", type: "long" },
    { name: "commitNumber", type: "long" },
    { name: "commitUser", type: "string" },
    { name: "nulledFields", type: { type: "array", items: "string" } },
    { name: "diffFields", type: { type: "array", items: "string" } },
    { name: "changedFields", type: { type: "array", items: "string" } },
  ],
  doc: "Data:ChangeEventHeader",
};

function avroField(def: FieldDef): Record<string, unknown> {
  if (def.type === "boolean") return { name: def.name, type: ["null", "boolean"], default: null };
  if (def.type === "datetime") return { name: def.name, type: ["null", "long"], doc: "Data:DateTime", default: null };
  return { name: def.name, type: ["null", "string"], default: null };
}

/**
 * The LeadChangeEvent schema for an org's current Lead fields, laid out as Salesforce does: the header first,
 * then every field as a nullable union, the person-name parts nested in the `Name` compound field.
 */
export interface EventSchema {
  schemaId: string;
  json: string;
  type: avro.Type;
  /** top-level field names in schema order (index = bit position) */
  topLevel: string[];
  /** the name parts in the compound's order */
  nameParts: string[];
}

export function buildLeadEventSchema(fields: FieldDef[]): EventSchema {
  const nameParts = fields.filter((f) => f.nameComponent).map((f) => f.name);
  const avroFields: Array<Record<string, unknown>> = [{ name: "ChangeEventHeader", type: CHANGE_EVENT_HEADER, doc: "Data:ChangeEventHeader" }];
  let nameAdded = false;
  for (const def of fields) {
    if (NOT_IN_EVENT.has(def.name)) continue;
    if (def.nameComponent) {
      if (nameAdded) continue;
      nameAdded = true;
      avroFields.push({
        name: NAME_COMPOUND,
        type: [
          "null",
          {
            type: "record",
            name: "Switchable_PersonName",
            namespace: "com.sforce.eventbus",
            fields: fields.filter((f) => f.nameComponent).map(avroField),
          },
        ],
        doc: "Data:Switchable_PersonName",
        default: null,
      });
      continue;
    }
    avroFields.push(avroField(def));
  }
  const schema = { type: "record", name: "LeadChangeEvent", namespace: "com.sforce.eventbus", fields: avroFields };
  const json = JSON.stringify(schema);
  // Salesforce schema ids are 22-character base64url fingerprints of the schema
  const schemaId = createHash("sha256").update(json).digest("base64url").slice(0, 22);
  return { schemaId, json, type: avro.Type.forSchema(schema as avro.Schema), topLevel: avroFields.map((f) => f["name"] as string), nameParts };
}

/** A schema again from its Avro JSON (a restarted emulator's stored schemas): the id is the same fingerprint. */
export function schemaFromJson(json: string): EventSchema {
  const schema = JSON.parse(json) as { fields: Array<{ name: string; type: unknown }> };
  const compound = schema.fields.find((f) => f.name === NAME_COMPOUND);
  const nameRecord = Array.isArray(compound?.type) ? (compound.type[1] as { fields: Array<{ name: string }> }) : undefined;
  const schemaId = createHash("sha256").update(json).digest("base64url").slice(0, 22);
  return { schemaId, json, type: avro.Type.forSchema(schema as avro.Schema), topLevel: schema.fields.map((f) => f.name), nameParts: nameRecord?.fields.map((f) => f.name) ?? [] };
}

/**
 * Field names → the Pub/Sub bitmap list: `"0x…"` with bit i set for top-level field i (the header is field 0),
 * then `"{parentIndex}-0x…"` for the nested fields of a compound field. Hex digits are upper case, as Salesforce's.
 */
export function encodeFieldBitmaps(schema: EventSchema, names: string[]): string[] {
  let top = 0n;
  let nested = 0n;
  for (const name of names) {
    const part = schema.nameParts.indexOf(name);
    if (part >= 0) {
      nested |= 1n << BigInt(part);
      continue;
    }
    const index = schema.topLevel.indexOf(name);
    if (index >= 0) top |= 1n << BigInt(index);
  }
  const bitmaps: string[] = [];
  if (top !== 0n) bitmaps.push(`0x${top.toString(16).toUpperCase()}`);
  if (nested !== 0n) bitmaps.push(`${schema.topLevel.indexOf(NAME_COMPOUND)}-0x${nested.toString(16).toUpperCase()}`);
  return bitmaps;
}

/** The Avro payload of one event: every schema field present, the ones the event does not carry null. */
export function encodeEvent(schema: EventSchema, event: ChangeEvent): Buffer {
  const record: Record<string, unknown> = {
    ChangeEventHeader: {
      entityName: event.entityName,
      recordIds: event.recordIds,
      changeType: event.changeType,
      changeOrigin: event.changeOrigin,
      transactionKey: event.transactionKey,
      sequenceNumber: event.sequenceNumber,
      commitTimestamp: event.commitTimestamp,
      commitNumber: event.commitNumber,
      commitUser: event.commitUser,
      nulledFields: encodeFieldBitmaps(schema, event.nulledFields),
      diffFields: encodeFieldBitmaps(schema, event.diffFields),
      changedFields: encodeFieldBitmaps(schema, event.changedFields),
    },
  };
  const nameRecord: Record<string, unknown> = {};
  let hasName = false;
  for (const part of schema.nameParts) {
    const value = event.fields[part];
    nameRecord[part] = wireValue(value);
    if (value !== undefined) hasName = true;
  }
  for (const name of schema.topLevel.slice(1)) {
    if (name === NAME_COMPOUND) {
      record[name] = hasName ? nameRecord : null;
      continue;
    }
    record[name] = wireValue(event.fields[name], name);
  }
  return schema.type.toBuffer(record);
}

function wireValue(value: FieldValue | undefined, name = ""): unknown {
  if (value === undefined || value === null) return null;
  // datetimes travel as epoch milliseconds
  if (typeof value === "string" && /Date$|Modstamp$/.test(name) && /^\d{4}-\d{2}-\d{2}T/.test(value)) return Date.parse(value.replace("+0000", "Z"));
  return value;
}
