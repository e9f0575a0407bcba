import type { Client } from "@hubspot/api-client";
import type { OptionInput, PropertyCreate } from "@hubspot/api-client/lib/codegen/crm/properties/index.js";
import { LEAD_SOURCE_PROPERTY } from "@leadsync/core";
import { isApiException, toHubSpotError } from "./errors.js";

/**
 * The `lead_source_system` contact property that marks where a contact came from (the setup guide's
 * Step 1; loop prevention reads it). Idempotent: creates it when missing, adds missing options otherwise.
 */

const OBJECT_TYPE = "contacts";
const GROUP = "contactinformation";

/** The guide's options, with our marker (LEAD_SOURCE_MARKER, default `jazzaam`) as the platform's value. */
export function leadSourceOptions(marker: string): OptionInput[] {
  return [
    { value: marker, label: "Your Platform", hidden: false, displayOrder: 0 },
    { value: "hubspot", label: "HubSpot CRM", hidden: false, displayOrder: 1 },
    { value: "manual", label: "Manual Entry", hidden: false, displayOrder: 2 },
  ];
}

export interface EnsurePropertyResult {
  created: boolean;
  addedOptions: string[];
}

export async function ensureLeadSourceProperty(client: Client, marker = "jazzaam"): Promise<EnsurePropertyResult> {
  const wanted = leadSourceOptions(marker);
  const existing = await findProperty(client);
  if (!existing) {
    try {
      await client.crm.properties.coreApi.create(OBJECT_TYPE, leadSourcePropertyDefinition(wanted));
      return { created: true, addedOptions: wanted.map((o) => o.value) };
    } catch (err) {
      // Another process created it between our read and our create: fall through to the option check.
      if (!(isApiException(err) && err.code === 409)) throw toHubSpotError(err, "lead source property create");
    }
  }
  const current = existing ?? (await findProperty(client));
  if (!current) throw toHubSpotError(new Error("property vanished after a 409"), "lead source property read");
  const have = new Set(current.options.map((o) => o.value));
  const missing = wanted.filter((o) => !have.has(o.value));
  if (missing.length > 0) {
    // PATCH replaces the option list, so send the existing options plus the missing ones.
    const options: OptionInput[] = [
      ...current.options.map((o) => ({
        value: o.value,
        label: o.label,
        hidden: o.hidden,
        ...(o.displayOrder === undefined ? {} : { displayOrder: o.displayOrder }),
        ...(o.description === undefined ? {} : { description: o.description }),
      })),
      ...missing.map((o, i) => ({ ...o, displayOrder: current.options.length + i })),
    ];
    try {
      await client.crm.properties.coreApi.update(OBJECT_TYPE, LEAD_SOURCE_PROPERTY, { options });
    } catch (err) {
      throw toHubSpotError(err, "lead source property update");
    }
  }
  return { created: false, addedOptions: missing.map((o) => o.value) };
}

function leadSourcePropertyDefinition(options: OptionInput[]): PropertyCreate {
  return {
    name: LEAD_SOURCE_PROPERTY,
    label: "Lead Source System",
    description: "Where this contact was created. Set by LeadSync; used to skip the echo of its own writes.",
    groupName: GROUP,
    type: "enumeration" as PropertyCreate["type"],
    fieldType: "select" as PropertyCreate["fieldType"],
    options,
  };
}

async function findProperty(client: Client) {
  try {
    return await client.crm.properties.coreApi.getByName(OBJECT_TYPE, LEAD_SOURCE_PROPERTY);
  } catch (err) {
    if (isApiException(err) && err.code === 404) return undefined;
    throw toHubSpotError(err, "lead source property read");
  }
}
