/** Lead field metadata: what describe answers, what writes are checked against, and the CDC schema's field order. */

export type FieldType = "id" | "string" | "email" | "phone" | "picklist" | "boolean" | "datetime" | "reference";

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  custom: boolean;
  externalId: boolean;
  unique: boolean;
  /** Salesforce fills it when the create body leaves it out */
  defaultedOnCreate: boolean;
  picklistValues?: Array<{ value: string; label: string; active: boolean; defaultValue: boolean }>;
  restrictedPicklist?: boolean;
  referenceTo?: string[];
  /** a member of the Name compound field in the change-event schema (Salutation, FirstName, LastName, …) */
  nameComponent?: boolean;
}

const picklist = (values: string[], defaultValue?: string) =>
  values.map((value) => ({ value, label: value, active: true, defaultValue: value === defaultValue }));

export const DEFAULT_LEAD_STATUS = "Open - Not Contacted";
export const LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"];
export const LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"];

function field(name: string, label: string, type: FieldType, rest: Partial<FieldDef> = {}): FieldDef {
  return {
    name,
    label,
    type,
    length: 0,
    nillable: true,
    createable: true,
    updateable: true,
    custom: false,
    externalId: false,
    unique: false,
    defaultedOnCreate: false,
    ...rest,
  };
}

const system = { createable: false, updateable: false, nillable: false, defaultedOnCreate: true } as const;

/** The standard Lead fields the sandbox knows, in Salesforce's describe order. */
export function standardLeadFields(): FieldDef[] {
  return [
    field("Id", "Lead ID", "id", { ...system, length: 18 }),
    field("IsDeleted", "Deleted", "boolean", system),
    field("LastName", "Last Name", "string", { length: 80, nillable: false, nameComponent: true }),
    field("FirstName", "First Name", "string", { length: 40, nameComponent: true }),
    field("Salutation", "Salutation", "picklist", { length: 40, nameComponent: true, picklistValues: picklist(["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]) }),
    field("Name", "Full Name", "string", { length: 121, createable: false, updateable: false, nillable: false }),
    field("Title", "Title", "string", { length: 128 }),
    field("Company", "Company", "string", { length: 255, nillable: false }),
    field("Phone", "Phone", "phone", { length: 40 }),
    field("Email", "Email", "email", { length: 80 }),
    field("LeadSource", "Lead Source", "picklist", { length: 255, picklistValues: picklist(LEAD_SOURCES) }),
    field("Status", "Status", "picklist", {
      length: 255,
      nillable: false,
      defaultedOnCreate: true,
      restrictedPicklist: true,
      picklistValues: picklist(LEAD_STATUSES, DEFAULT_LEAD_STATUS),
    }),
    field("OwnerId", "Owner ID", "reference", { length: 18, nillable: false, defaultedOnCreate: true, referenceTo: ["User"] }),
    field("IsConverted", "Converted", "boolean", system),
    field("ConvertedDate", "Converted Date", "datetime", { ...system, nillable: true }),
    field("ConvertedContactId", "Converted Contact ID", "reference", { ...system, nillable: true, length: 18, referenceTo: ["Contact"] }),
    field("CreatedDate", "Created Date", "datetime", system),
    field("CreatedById", "Created By ID", "reference", { ...system, length: 18, referenceTo: ["User"] }),
    field("LastModifiedDate", "Last Modified Date", "datetime", system),
    field("LastModifiedById", "Last Modified By ID", "reference", { ...system, length: 18, referenceTo: ["User"] }),
    field("SystemModstamp", "System Modstamp", "datetime", system),
  ];
}

/** The standard Contact fields the sandbox knows (a converted lead's person lives on). */
export function standardContactFields(): FieldDef[] {
  return [
    field("Id", "Contact ID", "id", { ...system, length: 18 }),
    field("IsDeleted", "Deleted", "boolean", system),
    field("LastName", "Last Name", "string", { length: 80, nillable: false, nameComponent: true }),
    field("FirstName", "First Name", "string", { length: 40, nameComponent: true }),
    field("Salutation", "Salutation", "picklist", { length: 40, nameComponent: true, picklistValues: picklist(["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]) }),
    field("Name", "Full Name", "string", { length: 121, createable: false, updateable: false, nillable: false }),
    field("AccountId", "Account ID", "reference", { length: 18, referenceTo: ["Account"] }),
    field("Title", "Title", "string", { length: 128 }),
    field("Phone", "Business Phone", "phone", { length: 40 }),
    field("Email", "Email", "email", { length: 80 }),
    field("LeadSource", "Lead Source", "picklist", { length: 255, picklistValues: picklist(LEAD_SOURCES) }),
    field("OwnerId", "Owner ID", "reference", { length: 18, nillable: false, defaultedOnCreate: true, referenceTo: ["User"] }),
    field("CreatedDate", "Created Date", "datetime", system),
    field("CreatedById", "Created By ID", "reference", { ...system, length: 18, referenceTo: ["User"] }),
    field("LastModifiedDate", "Last Modified Date", "datetime", system),
    field("LastModifiedById", "Last Modified By ID", "reference", { ...system, length: 18, referenceTo: ["User"] }),
    field("SystemModstamp", "System Modstamp", "datetime", system),
  ];
}

/** A Tooling API CustomField's `Metadata` as far as the sandbox uses it. */
export interface CustomFieldMetadata {
  label?: string | undefined;
  type?: string | undefined;
  length?: number | undefined;
  externalId?: boolean | undefined;
  unique?: boolean | undefined;
  required?: boolean | undefined;
}

export function customField(apiName: string, metadata: CustomFieldMetadata): FieldDef {
  const type: FieldType = metadata.type === "Email" ? "email" : metadata.type === "Phone" ? "phone" : metadata.type === "Checkbox" ? "boolean" : "string";
  return field(apiName, metadata.label ?? apiName.replace(/__c$/, ""), type, {
    length: type === "string" ? (metadata.length ?? 255) : type === "boolean" ? 0 : 80,
    custom: true,
    externalId: metadata.externalId ?? false,
    unique: metadata.unique ?? false,
    nillable: !(metadata.required ?? false),
  });
}
