import { identityOf, type ChangeKind, type ChangeOrigin, type RecordChange } from "@leadsync/core";
import { PLACEHOLDER, REQUIRED_LEAD_FIELDS, SALESFORCE_CLIENT_ID } from "./constants.js";

/**
 * Change Data Capture events (`LeadChangeEvent`) → the sync's `RecordChange`s, one per record id. Pure: the
 * Pub/Sub client decodes Avro and the field bitmaps; this decides kind, fields, origin and identity.
 */

/** The `ChangeEventHeader` of a decoded event (bitmaps already turned into field names). */
export interface ChangeEventHeader {
  entityName: string;
  recordIds: readonly string[];
  changeType: string;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitUser: string;
  changedFields: readonly string[];
  nulledFields?: readonly string[];
  diffFields?: readonly string[];
}

/** One decoded event: its replay id (opaque bytes), header and record fields (unchanged ones null). */
export interface DecodedChangeEvent {
  replayId: Uint8Array;
  header: ChangeEventHeader;
  /** The record's fields; compound fields (Name) may be nested (`{ Name: { FirstName } }`) or flat. */
  fields: Readonly<Record<string, unknown>>;
}

export interface MappingContext {
  /** The org id (the integration's externalAccountId). */
  accountId: string;
  /** The integration user (`state.userId`): our writes' `commitUser`. */
  userId: string | undefined;
}

export interface MappedEvent {
  changes: RecordChange[];
  /** Set when the event names no readable record (a wildcard id, an overflow without ids): the caller reconciles. */
  reconcile?: string;
}

/** Header and system fields that are not record data. */
const NOT_DATA = new Set(["ChangeEventHeader", "Id", "SystemModstamp", "IsDeleted"]);
const REQUIRED = new Set<string>(REQUIRED_LEAD_FIELDS);
const RECORD_ID = /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/;

export function kindOf(changeType: string): ChangeKind {
  switch (changeType) {
    case "CREATE":
      return "create";
    case "UPDATE":
      return "update";
    case "DELETE":
      return "delete";
    case "UNDELETE":
      return "restore";
    default:
      // GAP_CREATE, GAP_UPDATE, GAP_DELETE, GAP_UNDELETE, GAP_OVERFLOW: the event carries no data; read the record.
      return changeType.startsWith("GAP_") ? "update" : "unsupported";
  }
}

/** The `client=` of a `changeOrigin` (`com/salesforce/api/rest/62.0;client=leadsync`), if any. */
export function clientOf(changeOrigin: string): string | undefined {
  const match = /(?:^|;)\s*client=([^;]*)/.exec(changeOrigin);
  const client = match?.[1]?.trim();
  return client === undefined || client === "" ? undefined : client;
}

/**
 * Who made the change. `client=leadsync` is us; another client, or an empty origin (a UI edit), is not. An API write
 * whose origin names no client (Salesforce may not pass call options through for every resource; providers-facts
 * §2.4) is ours when it was committed by our integration user.
 */
export function originOf(header: Pick<ChangeEventHeader, "changeOrigin" | "commitUser">, userId: string | undefined): ChangeOrigin {
  const origin = header.changeOrigin ?? "";
  const client = clientOf(origin);
  if (client !== undefined) return client.toLowerCase() === SALESFORCE_CLIENT_ID ? "self" : "other";
  if (origin === "") return "other";
  return userId !== undefined && sameId(header.commitUser, userId) ? "self" : "other";
}

/** Replay ids are opaque bytes; base64 keeps them as a string checkpoint. */
export function encodeReplayId(replayId: Uint8Array): string {
  return Buffer.from(replayId).toString("base64");
}

export function decodeReplayId(checkpoint: string): Buffer {
  return Buffer.from(checkpoint, "base64");
}

export function mapChangeEvent(event: DecodedChangeEvent, context: MappingContext): MappedEvent {
  const { header } = event;
  const kind = kindOf(header.changeType);
  const ids = header.recordIds.filter((id) => RECORD_ID.test(id));
  const wildcard = header.recordIds.length > ids.length || ids.length === 0;
  const fields = kind === "delete" || header.changeType.startsWith("GAP_") ? undefined : fieldsOf(event);
  const origin = originOf(header, context.userId);
  const eventId = encodeReplayId(event.replayId);
  const changes = ids.map(
    (recordId): RecordChange => ({
      provider: "salesforce",
      accountId: context.accountId,
      recordId,
      kind,
      type: header.changeType,
      ...(fields === undefined ? {} : { fields }),
      origin,
      occurredAt: Number(header.commitTimestamp),
      eventId,
      // One transaction's events share the key and are numbered; a redelivery is the same event.
      identity: identityOf([header.transactionKey, header.sequenceNumber, recordId]),
    }),
  );
  return { changes, ...(wildcard ? { reconcile: `${header.changeType} event for ${header.recordIds.length === 0 ? "no record ids" : "a range of records"}` } : {}) };
}

/**
 * The values the event carries: for an update, the changed and nulled fields with their new values; for a create
 * or undelete, every non-null field. Placeholders of required fields read as null (we wrote them, not a person).
 */
function fieldsOf(event: DecodedChangeEvent): Record<string, string | null> {
  const flat = flatten(event.fields);
  const out: Record<string, string | null> = {};
  if (event.header.changeType === "UPDATE") {
    const nulled = new Set((event.header.nulledFields ?? []).map(leafName));
    for (const name of [...event.header.changedFields, ...(event.header.nulledFields ?? [])].map(leafName)) {
      if (NOT_DATA.has(name)) continue;
      out[name] = nulled.has(name) ? null : valueOf(name, flat[name]);
    }
    return out;
  }
  for (const [name, raw] of Object.entries(flat)) {
    if (NOT_DATA.has(name)) continue;
    const value = valueOf(name, raw);
    if (value !== null) out[name] = value;
  }
  return out;
}

/** `Name.FirstName` → `FirstName`: compound fields' parts are ordinary Lead fields. */
function leafName(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? name : name.slice(dot + 1);
}

/** Compound fields (Name, Address) spread into their parts. */
function flatten(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name !== "ChangeEventHeader" && value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Uint8Array)) {
      for (const [part, inner] of Object.entries(value as Record<string, unknown>)) out[part] = inner;
    } else out[name] = value;
  }
  return out;
}

function valueOf(name: string, raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  const value = typeof raw === "string" ? raw : typeof raw === "number" || typeof raw === "boolean" || typeof raw === "bigint" ? String(raw) : null;
  if (value === null || value === "") return null;
  return REQUIRED.has(name) && value === PLACEHOLDER ? null : value;
}

/** 15- and 18-character forms of one id are the same record. */
function sameId(a: string | undefined, b: string): boolean {
  return a !== undefined && a.slice(0, 15) === b.slice(0, 15);
}
