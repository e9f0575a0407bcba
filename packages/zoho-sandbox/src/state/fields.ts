/** Leads field metadata: the standard fields (Zoho Help, providers-facts §3.2) and custom fields added through the API. */
export interface FieldMeta {
  id: string;
  api_name: string;
  field_label: string;
  data_type: "text" | "email" | "phone" | "picklist" | "textarea" | "datetime" | "ownerlookup" | "bigint";
  length: number;
  custom_field: boolean;
  system_mandatory: boolean;
  /** Zoho's system-defined duplicate check (Leads: Email). */
  unique: boolean;
  read_only: boolean;
}

const STANDARD: readonly Omit<FieldMeta, "id">[] = [
  text("First_Name", "First Name", 40),
  { ...text("Last_Name", "Last Name", 80), system_mandatory: true },
  { ...text("Email", "Email", 100), data_type: "email", unique: true },
  text("Company", "Company", 100),
  { ...text("Phone", "Phone", 30), data_type: "phone" },
  { ...text("Mobile", "Mobile", 30), data_type: "phone" },
  text("Designation", "Title", 100),
  { ...text("Lead_Source", "Lead Source", 120), data_type: "picklist" },
  { ...text("Lead_Status", "Lead Status", 120), data_type: "picklist" },
  { ...text("Description", "Description", 32000), data_type: "textarea" },
  { ...text("Owner", "Lead Owner", 120), data_type: "ownerlookup" },
  { ...text("Created_Time", "Created Time", 120), data_type: "datetime", read_only: true },
  { ...text("Modified_Time", "Modified Time", 120), data_type: "datetime", read_only: true },
  { ...text("Created_By", "Created By", 120), data_type: "ownerlookup", read_only: true },
  { ...text("Modified_By", "Modified By", 120), data_type: "ownerlookup", read_only: true },
];

function text(api_name: string, field_label: string, length: number): Omit<FieldMeta, "id"> {
  return { api_name, field_label, data_type: "text", length, custom_field: false, system_mandatory: false, unique: false, read_only: false };
}

/** The fields of one org's Leads module. */
export class LeadFields {
  private readonly fields: FieldMeta[];

  constructor(private readonly nextId: () => string) {
    this.fields = STANDARD.map((f) => ({ ...f, id: nextId() }));
  }

  /** Replaces the fields with a snapshot's (standard and custom, with their ids). */
  restoreSnapshot(fields: readonly FieldMeta[]): void {
    this.fields.splice(0, this.fields.length, ...fields.map((f) => ({ ...f })));
  }

  list(): FieldMeta[] {
    return this.fields.map((f) => ({ ...f }));
  }

  byApiName(apiName: string): FieldMeta | undefined {
    return this.fields.find((f) => f.api_name === apiName);
  }

  byLabel(label: string): FieldMeta | undefined {
    return this.fields.find((f) => f.field_label.toLowerCase() === label.toLowerCase());
  }

  /**
   * Adds a custom field. Zoho generates the api_name from the label (non-alphanumerics → `_`); a taken name gets a
   * numeric suffix, and `suffix` (an admin knob) is appended so tests prove the client reads the name back.
   */
  addCustom(input: { field_label: string; data_type: "text"; length: number }, suffix: string): FieldMeta {
    const base = `${input.field_label.trim().replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "")}${suffix}`;
    let apiName = base;
    for (let n = 1; this.byApiName(apiName); n++) apiName = `${base}_${n}`;
    const field: FieldMeta = { ...text(apiName, input.field_label.trim(), input.length), custom_field: true, id: this.nextId() };
    this.fields.push(field);
    return field;
  }
}
