import { z } from "zod";
import { badRequest } from "../http/errors.js";

const contactItem = z.object({ value: z.string(), primary: z.boolean().optional(), label: z.string().optional() });

/** A v2 person create/update body (our own definition after the SDK's `AddPersonRequest`, same wire names). */
export const personBody = z.strictObject({
  name: z.string().optional(),
  owner_id: z.number().int().optional(),
  org_id: z.number().int().nullable().optional(),
  emails: z.array(contactItem).optional(),
  phones: z.array(contactItem).optional(),
  job_title: z.string().nullable().optional(),
  notes: z.string().nullable().optional(),
  birthday: z.string().nullable().optional(),
  visible_to: z.number().int().optional(),
  label_ids: z.array(z.number().int()).optional(),
  marketing_status: z.enum(["no_consent", "unsubscribed", "subscribed", "archived"]).optional(),
  custom_fields: z.record(z.string(), z.unknown()).optional(),
  add_time: z.string().optional(),
});

export const idParams = z.object({ id: z.coerce.number().int() });

/** `true`/`false`/`1`/`0` query booleans (never `z.coerce.boolean`, which reads "false" as true). */
export const queryBool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** v2 cursors: opaque to clients, here the sort key and id of the last item returned. */
export function encodeCursor(key: number, id: number): string {
  return Buffer.from(JSON.stringify([key, id])).toString("base64url");
}

export function decodeCursor(cursor: string): [number, number] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === "number" && typeof parsed[1] === "number") return [parsed[0], parsed[1]];
  } catch {
    // falls through
  }
  throw badRequest("Invalid cursor");
}

/** v2 list bodies: `{success, data, additional_data:{next_cursor}}` (next_cursor null on the last page). */
export function page<T>(items: T[], nextCursor: string | null): { success: true; data: T[]; additional_data: { next_cursor: string | null } } {
  return { success: true, data: items, additional_data: { next_cursor: nextCursor } };
}

export function parseTime(value: string, name: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`Invalid ${name}: expected RFC 3339`);
  return ms;
}
