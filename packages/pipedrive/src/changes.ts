import { identityOf, type ChangeOrigin, type ProviderEnvironment, type RecordChange } from "@leadsync/core";
import { PERSON_PROPERTIES, personProperties, toCrmContact, type PersonLike } from "./person-mapping.js";

/** `previous` keys of a v2 person payload → the flat properties they change. */
const PROPERTIES_OF_FIELD: Record<string, string[]> = {
  emails: [PERSON_PROPERTIES.email],
  phones: [PERSON_PROPERTIES.phone],
  name: [PERSON_PROPERTIES.firstName, PERSON_PROPERTIES.lastName],
  first_name: [PERSON_PROPERTIES.firstName],
  last_name: [PERSON_PROPERTIES.lastName],
  job_title: [PERSON_PROPERTIES.jobTitle],
};

interface Payload {
  meta: Record<string, unknown>;
  data: PersonLike | null;
  previous: (PersonLike & Record<string, unknown>) | null;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);

function asPayload(event: unknown): Payload | undefined {
  if (!event || typeof event !== "object") return undefined;
  const { meta, data, previous } = event as Record<string, unknown>;
  if (!meta || typeof meta !== "object") return undefined;
  return { meta: meta as Record<string, unknown>, data: (data ?? null) as Payload["data"], previous: (previous ?? null) as Payload["previous"] };
}

/** `meta.timestamp`: ISO in the examples, a 10-digit epoch per the docs (CONFLICT in providers-facts): both are read. */
function occurredAt(meta: Record<string, unknown>, data: PersonLike | null): number {
  const raw = meta["timestamp"];
  if (typeof raw === "number") return raw < 1e12 ? raw * 1000 : raw;
  if (typeof raw === "string") {
    if (/^\d+$/.test(raw)) return Number(raw) < 1e12 ? Number(raw) * 1000 : Number(raw);
    const ms = Date.parse(raw);
    if (!Number.isNaN(ms)) return ms;
  }
  const updated = data?.update_time ? Date.parse(data.update_time) : Number.NaN;
  return Number.isNaN(updated) ? Date.now() : updated;
}

/**
 * Who made the change: `change_source: "app"` is a person in Pipedrive's web app; `"api"` by our integration user is
 * our own write (an echo); `"api"` by anyone else is another integration, or us through another token: the write
 * ledger decides. Our user is the one stored at connect (`selfUserIdOf`), else the webhook's owner: the webhooks are
 * created with the integration's own token.
 */
function originOf(meta: Record<string, unknown>, selfUserId: string | undefined): ChangeOrigin {
  const source = meta["change_source"];
  if (source === "app") return "other";
  if (source === "api") {
    const self = selfUserId ?? str(meta["webhook_owner_id"]);
    return self !== undefined && str(meta["user_id"]) === self ? "self" : "unknown";
  }
  return "unknown";
}

export interface ParseContext {
  env?: ProviderEnvironment;
  /** our integration user's id for the company (`state.userId`); default: the webhook owner in `meta` */
  selfUserIdOf?: (accountId: string) => string | undefined;
}

/**
 * Webhooks v2 person payloads → `RecordChange`s. The payload carries the record (`data`), so no read is needed —
 * except when the organisation changed (its name is not in the payload): then `record` is left out and the worker
 * reads the person. `fields` are the new values of what `previous` says changed. Merges come as a delete of the
 * merged person (`merged_to_id`) and a change of the survivor (`merged_from_id`): both become `merge` of the survivor.
 * The identity is the event's `meta.id`, the same on every delivery attempt (`attempt` is never part of it).
 */
export function parsePipedriveChanges(events: readonly unknown[], context: ParseContext = {}): RecordChange[] {
  const changes: RecordChange[] = [];
  for (const event of events) {
    const payload = asPayload(event);
    if (!payload || payload.meta["entity"] !== "person") continue;
    const { meta, data, previous } = payload;
    const accountId = str(meta["company_id"]) ?? "";
    const entityId = str(meta["entity_id"]) ?? str(data?.id) ?? str(previous?.id);
    const eventId = str(meta["id"]);
    if (!entityId || !eventId) continue;
    const action = str(meta["action"]) ?? "";
    const mergedTo = str(meta["merged_to_id"]);
    const mergedFrom = str(meta["merged_from_id"]);
    const base = {
      provider: "pipedrive",
      accountId,
      type: `${action}.person`,
      origin: originOf(meta, context.selfUserIdOf?.(accountId)),
      occurredAt: occurredAt(meta, data),
      eventId,
      identity: identityOf([accountId, eventId]),
    };

    if (action === "delete") {
      if (mergedTo) changes.push({ ...base, recordId: mergedTo, kind: "merge", mergedIds: [entityId] });
      else changes.push({ ...base, recordId: entityId, kind: "delete" });
      continue;
    }
    if (action !== "create" && action !== "change") {
      changes.push({ ...base, recordId: entityId, kind: "unsupported" });
      continue;
    }
    // A new organisation is only an id here: the record is read (fetchContacts resolves the name). One removed is known.
    const orgChanged = previous !== null && "org_id" in previous;
    const orgRemoved = orgChanged && (data?.org_id ?? null) === null;
    const record = !data ? undefined : orgRemoved ? toCrmContact(data, null) : orgChanged ? undefined : toCrmContact(data);
    const change: RecordChange = {
      ...base,
      recordId: entityId,
      kind: mergedFrom ? "merge" : action === "create" ? "create" : "update",
      ...(record && { record }),
      ...(mergedFrom && { mergedIds: [mergedFrom] }),
    };
    if (action === "change" && previous && data) {
      change.fields = changedFields(previous, data);
      // the name is unknown (null: "the read decides"), but the change must not look like one of no mapped field
      if (orgChanged) change.fields[PERSON_PROPERTIES.company] = null;
    }
    changes.push(change);
  }
  return changes;
}

function changedFields(previous: Record<string, unknown>, data: PersonLike): Record<string, string | null> {
  const now = personProperties(data);
  const fields: Record<string, string | null> = {};
  for (const key of Object.keys(previous)) {
    for (const property of PROPERTIES_OF_FIELD[key] ?? []) fields[property] = now[property] ?? null;
  }
  const custom = previous["custom_fields"];
  if (custom && typeof custom === "object") for (const key of Object.keys(custom)) fields[key] = now[key] ?? null;
  return fields;
}
