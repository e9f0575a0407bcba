import { randomBytes } from "node:crypto";

/**
 * Person fields. Standard fields are keyed by name; a custom field's key is a random 40-character hash that differs
 * per account (providers-facts §4.3), so an integration must read it back, never assume it.
 */
export interface PersonField {
  id: number;
  key: string;
  name: string;
  field_type: string;
  edit_flag: boolean;
  options: { id: number; label: string }[] | null;
  add_time: number;
  update_time: number;
  created_by_user_id: number | null;
  order_nr: number;
  add_visible_flag: boolean;
}

const STANDARD: [key: string, name: string, type: string][] = [
  ["id", "ID", "int"],
  ["name", "Name", "varchar"],
  ["first_name", "First name", "varchar"],
  ["last_name", "Last name", "varchar"],
  ["label_ids", "Labels", "set"],
  ["org_id", "Organization", "org"],
  ["owner_id", "Owner", "user"],
  ["phone", "Phone", "phone"],
  ["email", "Email", "varchar"],
  ["job_title", "Job title", "varchar"],
  ["notes", "Notes", "text"],
  ["birthday", "Birthday", "date"],
  ["visible_to", "Visible to", "visible_to"],
  ["marketing_status", "Marketing status", "enum"],
  ["add_time", "Person created", "date"],
  ["update_time", "Update time", "date"],
];

/** The field types `POST /v1/personFields` accepts (providers-facts §4.3). */
export const CUSTOM_FIELD_TYPES = ["varchar", "varchar_auto", "text", "double", "monetary", "date", "daterange", "time", "timerange", "set", "enum", "user", "org", "people", "phone", "address"] as const;

export class PersonFields {
  private readonly fields: PersonField[] = [];
  private lastId = 9000;

  constructor(now: number) {
    for (const [key, name, type] of STANDARD) this.push({ key, name, field_type: type, edit_flag: false, now, createdBy: null, options: null });
  }

  snapshot(): { fields: PersonField[]; lastId: number } {
    return { fields: this.all(), lastId: this.lastId };
  }

  /** Replaces the fields with a snapshot's (a custom field's key is random: it must survive). */
  restoreSnapshot(snapshot: { fields: readonly PersonField[]; lastId: number }): void {
    this.fields.splice(0, this.fields.length, ...snapshot.fields);
    this.lastId = snapshot.lastId;
  }

  all(): PersonField[] {
    return [...this.fields];
  }

  custom(key: string): PersonField | undefined {
    return this.fields.find((f) => f.edit_flag && f.key === key);
  }

  addCustom(input: { name: string; field_type: string; options?: string[] | undefined; add_visible_flag?: boolean | undefined }, userId: number, now: number): PersonField {
    const options = input.options ? input.options.map((label, i) => ({ id: this.lastId * 10 + i, label })) : null;
    return this.push({ key: randomBytes(20).toString("hex"), name: input.name, field_type: input.field_type, edit_flag: true, now, createdBy: userId, options, addVisible: input.add_visible_flag ?? true });
  }

  private push(input: { key: string; name: string; field_type: string; edit_flag: boolean; now: number; createdBy: number | null; options: PersonField["options"]; addVisible?: boolean }): PersonField {
    const field: PersonField = {
      id: ++this.lastId,
      key: input.key,
      name: input.name,
      field_type: input.field_type,
      edit_flag: input.edit_flag,
      options: input.options,
      add_time: input.now,
      update_time: input.now,
      created_by_user_id: input.createdBy,
      order_nr: this.fields.length,
      add_visible_flag: input.addVisible ?? true,
    };
    this.fields.push(field);
    return field;
  }
}
