import type { PersonFields } from "./person-fields.js";
import type { PersonRecord } from "./persons.js";

/** v2 timestamps are RFC 3339 in UTC with second precision (`2024-04-12T10:00:00Z`). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** v1 timestamps: `YYYY-MM-DD HH:MM:SS` in UTC (providers-facts §4.6). */
export function v1Time(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** A person as `/api/v2/persons` returns it. */
export function personV2(record: PersonRecord): Record<string, unknown> {
  return {
    id: record.id,
    name: record.name,
    first_name: record.first_name,
    last_name: record.last_name,
    owner_id: record.owner_id,
    org_id: record.org_id,
    add_time: rfc3339(record.add_time),
    update_time: rfc3339(record.update_time),
    emails: record.emails.map((e) => ({ ...e })),
    phones: record.phones.map((p) => ({ ...p })),
    is_deleted: record.is_deleted,
    visible_to: record.visible_to,
    label_ids: [...record.label_ids],
    picture_id: null,
    job_title: record.job_title,
    notes: record.notes,
    birthday: record.birthday,
    custom_fields: { ...record.custom_fields },
  };
}

/** Custom field values in webhooks v2 are `{type, value}` objects (providers-facts §4.4). */
function webhookCustomFields(values: Record<string, unknown>, fields: PersonFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const type = fields.custom(key)?.field_type ?? "varchar";
    out[key] = value === null ? null : type === "enum" ? { id: value, type } : { type, value };
  }
  return out;
}

/** A person as a webhook v2 `data` carries it (numbers for ids, ISO timestamps). */
export function personWebhookData(record: PersonRecord, fields: PersonFields): Record<string, unknown> {
  const { picture_id: _picture, is_deleted: _deleted, ...rest } = personV2(record);
  return { ...rest, custom_fields: webhookCustomFields(record.custom_fields, fields) };
}

/** `previous` of a change: only the changed fields, custom fields in the webhook format. */
export function previousWebhookData(previous: Record<string, unknown>, fields: PersonFields): Record<string, unknown> {
  const out: Record<string, unknown> = { ...previous };
  if (previous["custom_fields"] && typeof previous["custom_fields"] === "object") {
    out["custom_fields"] = webhookCustomFields(previous["custom_fields"] as Record<string, unknown>, fields);
  }
  return out;
}
