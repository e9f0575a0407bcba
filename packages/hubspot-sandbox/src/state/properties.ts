import { HubSpotError, validationError } from "../http/errors.js";

export interface PropertyOption {
  label: string;
  value: string;
  hidden: boolean;
  displayOrder?: number;
  description?: string;
}

/** A contact property as the properties API returns it (the SDK's `Property` model). */
export interface PropertyDefinition {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  description: string;
  options: PropertyOption[];
  displayOrder: number;
  hidden: boolean;
  formField: boolean;
  hasUniqueValue: boolean;
  hubspotDefined: boolean;
  calculated: boolean;
  externalOptions: boolean;
  readOnlyValue: boolean;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** Properties the CRM maintains itself: API writes to them are rejected. */
const READ_ONLY = new Set(["hs_object_id", "lastmodifieddate", "hs_lastmodifieddate"]);

const LIFECYCLE_STAGES = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other"];

type Seed = [name: string, label: string, type: string, fieldType: string, options?: string[]];

// HubSpot's default contact properties that LeadSync (and its tests) may touch. `lead_source_system` is
// deliberately absent: the product creates it through the properties API.
const DEFAULT_PROPERTIES: Seed[] = [
  ["email", "Email", "string", "text"],
  ["firstname", "First Name", "string", "text"],
  ["lastname", "Last Name", "string", "text"],
  ["phone", "Phone Number", "string", "phonenumber"],
  ["mobilephone", "Mobile Phone Number", "string", "phonenumber"],
  ["company", "Company Name", "string", "text"],
  ["jobtitle", "Job Title", "string", "text"],
  ["website", "Website URL", "string", "text"],
  ["address", "Street Address", "string", "text"],
  ["city", "City", "string", "text"],
  ["state", "State/Region", "string", "text"],
  ["zip", "Postal Code", "string", "text"],
  ["country", "Country/Region", "string", "text"],
  ["lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE_STAGES],
  ["hs_lead_status", "Lead Status", "enumeration", "radio", ["NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING"]],
  ["hubspot_owner_id", "Contact owner", "enumeration", "select", []],
  ["createdate", "Create Date", "datetime", "date"],
  ["lastmodifieddate", "Last Modified Date", "datetime", "date"],
  ["hs_object_id", "Record ID", "number", "number"],
];

export class PropertyStore {
  private readonly byName = new Map<string, PropertyDefinition>();

  constructor(now: Date = new Date()) {
    DEFAULT_PROPERTIES.forEach(([name, label, type, fieldType, options], index) => {
      this.byName.set(name, {
        ...baseDefinition(name, label, type, fieldType, now),
        displayOrder: index,
        hubspotDefined: true,
        readOnlyValue: READ_ONLY.has(name),
        options: (options ?? []).map((value, i) => ({ label: value, value, hidden: false, displayOrder: i })),
      });
    });
  }

  /** Replaces the definitions with a snapshot's (the defaults, edited, plus custom ones such as lead_source_system). */
  restoreSnapshot(definitions: readonly PropertyDefinition[]): void {
    this.byName.clear();
    for (const definition of definitions) this.byName.set(definition.name, definition);
  }

  list(): PropertyDefinition[] {
    return [...this.byName.values()];
  }

  get(name: string): PropertyDefinition | undefined {
    return this.byName.get(name);
  }

  create(input: PropertyCreateInput, now = new Date()): PropertyDefinition {
    if (this.byName.has(input.name)) {
      throw new HubSpotError(409, "CONFLICT", `A property named '${input.name}' already exists.`, {
        subCategory: "PropertyValidationError.PROPERTY_ALREADY_EXISTS",
      });
    }
    if (input.type === "enumeration" && !input.options) {
      throw validationError("Enumeration properties must have options.");
    }
    const definition: PropertyDefinition = {
      ...baseDefinition(input.name, input.label, input.type, input.fieldType, now),
      groupName: input.groupName,
      description: input.description ?? "",
      displayOrder: input.displayOrder ?? -1,
      hidden: input.hidden ?? false,
      formField: input.formField ?? false,
      hasUniqueValue: input.hasUniqueValue ?? false,
      options: (input.options ?? []).map(normaliseOption),
    };
    this.byName.set(definition.name, definition);
    return definition;
  }

  update(name: string, patch: PropertyUpdateInput, now = new Date()): PropertyDefinition {
    const current = this.byName.get(name);
    if (!current) throw propertyNotFound(name);
    const updated: PropertyDefinition = {
      ...current,
      ...(patch.label !== undefined && { label: patch.label }),
      ...(patch.type !== undefined && { type: patch.type }),
      ...(patch.fieldType !== undefined && { fieldType: patch.fieldType }),
      ...(patch.groupName !== undefined && { groupName: patch.groupName }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.displayOrder !== undefined && { displayOrder: patch.displayOrder }),
      ...(patch.hidden !== undefined && { hidden: patch.hidden }),
      ...(patch.formField !== undefined && { formField: patch.formField }),
      ...(patch.options !== undefined && { options: patch.options.map(normaliseOption) }),
      updatedAt: now.toISOString(),
    };
    this.byName.set(name, updated);
    return updated;
  }

  /**
   * Checks an API write the way HubSpot does: unknown properties → PROPERTY_DOESNT_EXIST, values outside an
   * enumeration's options → INVALID_OPTION, non-numeric numbers → INVALID_INTEGER, read-only → READ_ONLY_VALUE.
   */
  validateWrite(portalId: number, properties: Record<string, string>): void {
    const problems: Record<string, unknown>[] = [];
    for (const [name, value] of Object.entries(properties)) {
      const problem = this.checkValue(name, value);
      if (problem) {
        problems.push({ isValid: false, message: problem.message, error: problem.error, name, localizedErrorMessage: problem.message, portalId });
      }
    }
    if (problems.length === 0) return;
    const first = problems[0] as { error: string; name: string };
    throw validationError(`Property values were not valid: ${JSON.stringify(problems)}`, {
      errors: problems.map((p) => ({ message: p["message"], code: p["error"], context: { propertyName: [p["name"]] } })),
      context: { propertyName: [first.name] },
      subCategory: first.error,
    });
  }

  private checkValue(name: string, value: string): { error: string; message: string } | undefined {
    const definition = this.byName.get(name);
    if (!definition || definition.archived) return { error: "PROPERTY_DOESNT_EXIST", message: `Property "${name}" does not exist` };
    if (definition.readOnlyValue) return { error: "READ_ONLY_VALUE", message: `"${name}" is a read only property; its value cannot be set.` };
    if (value === "") return undefined; // "" clears any property
    if (definition.type === "enumeration" && definition.fieldType !== "text") {
      const allowed = new Set(definition.options.map((o) => o.value));
      // multi-select (checkbox) values are `;`-separated
      const values = definition.fieldType === "checkbox" ? value.split(";") : [value];
      const bad = values.find((v) => !allowed.has(v));
      if (bad !== undefined) {
        return { error: "INVALID_OPTION", message: `${bad} was not one of the allowed options: [${[...allowed].join(", ")}]` };
      }
    }
    if (definition.type === "number" && !Number.isFinite(Number(value))) {
      return { error: "INVALID_INTEGER", message: `${value} is not a valid number` };
    }
    if (definition.type === "bool" && value !== "true" && value !== "false") {
      return { error: "INVALID_BOOLEAN", message: `${value} is not a valid boolean` };
    }
    return undefined;
  }
}

export interface PropertyCreateInput {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  description?: string | undefined;
  displayOrder?: number | undefined;
  hidden?: boolean | undefined;
  formField?: boolean | undefined;
  hasUniqueValue?: boolean | undefined;
  options?: OptionInput[] | undefined;
}

type Updatable = Omit<PropertyCreateInput, "name" | "hasUniqueValue">;
export type PropertyUpdateInput = { [K in keyof Updatable]?: Updatable[K] | undefined };

export interface OptionInput {
  label: string;
  value: string;
  hidden?: boolean | undefined;
  displayOrder?: number | undefined;
  description?: string | undefined;
}

export function propertyNotFound(name: string): HubSpotError {
  return new HubSpotError(404, "OBJECT_NOT_FOUND", `Unable to find property with name '${name}' for object type 0-1.`);
}

function normaliseOption(option: OptionInput, index: number): PropertyOption {
  return {
    label: option.label,
    value: option.value,
    hidden: option.hidden ?? false,
    displayOrder: option.displayOrder ?? index,
    ...(option.description !== undefined && { description: option.description }),
  };
}

function baseDefinition(name: string, label: string, type: string, fieldType: string, now: Date): PropertyDefinition {
  return {
    name,
    label,
    type,
    fieldType,
    groupName: "contactinformation",
    description: "",
    options: [],
    displayOrder: -1,
    hidden: false,
    formField: true,
    hasUniqueValue: false,
    hubspotDefined: false,
    calculated: false,
    externalOptions: false,
    readOnlyValue: false,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    archived: false,
  };
}
