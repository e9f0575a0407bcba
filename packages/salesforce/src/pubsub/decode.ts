import avro from "avsc";
import { decodeFieldBitmaps, nestedRecord } from "./bitmap.js";

/** One change event as LeadSync's workers consume it: header decoded, bitmaps turned into field names, fields flat. */
export interface ChangeEventMessage {
  /** opaque; store it and resume with CUSTOM */
  replayId: Buffer;
  eventId: string;
  schemaId: string;
  entityName: string;
  changeType: string;
  recordIds: string[];
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
  changeOrigin: string;
  commitUser: string;
  commitTimestamp: number;
  commitNumber: number;
  transactionKey: string;
  sequenceNumber: number;
  /** every field the schema has (compound parts flattened): a string, or null when the event does not carry it */
  fields: Record<string, string | null>;
}

export interface ParsedSchema {
  schemaId: string;
  type: avro.types.RecordType;
}

export function parseSchema(schemaId: string, schemaJson: string): ParsedSchema {
  const type = avro.Type.forSchema(JSON.parse(schemaJson) as avro.Schema);
  if (type.typeName !== "record") throw new Error(`Pub/Sub schema ${schemaId} is not a record`);
  return { schemaId, type: type as avro.types.RecordType };
}

interface RawHeader {
  entityName: string;
  recordIds: string[];
  changeType: string;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  nulledFields: string[];
  diffFields: string[];
  changedFields: string[];
}

/** Datetime fields travel as epoch milliseconds (Avro long); LeadSync keeps them as ISO strings, as the REST API. */
function isDateTime(field: avro.types.Field, name: string): boolean {
  const doc = (field as unknown as { doc?: string }).doc ?? "";
  return /DateTime/i.test(doc) || /Date$|Modstamp$/.test(name);
}

function text(value: unknown, dateTime: boolean): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" && dateTime) return new Date(value).toISOString();
  if (typeof value === "object" && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return String(value);
}

export function decodeChangeEvent(schema: ParsedSchema, eventId: string, payload: Buffer, replayId: Buffer): ChangeEventMessage {
  const record = schema.type.fromBuffer(payload) as Record<string, unknown>;
  const header = record["ChangeEventHeader"] as RawHeader | undefined;
  if (!header) throw new Error(`event ${eventId} has no ChangeEventHeader: not a change event`);
  const fields: Record<string, string | null> = {};
  for (const field of schema.type.fields) {
    if (field.name === "ChangeEventHeader") continue;
    const nested = nestedRecord(field.type);
    const value = record[field.name];
    if (nested) {
      const inner = (value ?? {}) as Record<string, unknown>;
      for (const child of nested.fields) {
        const name = field.name === "Name" ? child.name : `${field.name}.${child.name}`;
        fields[name] = text(inner[child.name], isDateTime(child, child.name));
      }
      continue;
    }
    fields[field.name] = text(value, isDateTime(field, field.name));
  }
  return {
    replayId,
    eventId,
    schemaId: schema.schemaId,
    entityName: header.entityName,
    changeType: header.changeType,
    recordIds: header.recordIds,
    changedFields: decodeFieldBitmaps(schema.type, header.changedFields),
    nulledFields: decodeFieldBitmaps(schema.type, header.nulledFields),
    diffFields: decodeFieldBitmaps(schema.type, header.diffFields),
    changeOrigin: header.changeOrigin,
    commitUser: header.commitUser,
    commitTimestamp: Number(header.commitTimestamp),
    commitNumber: Number(header.commitNumber),
    transactionKey: header.transactionKey,
    sequenceNumber: header.sequenceNumber,
    fields,
  };
}
