import type { LeadField } from "@leadsync/core";

/** Blank strings mean "no value": stored as null, like a cleared CRM property. */
export function blankToNull(value: string | null | undefined): string | null | undefined {
  return typeof value === "string" && value === "" ? null : value;
}

/**
 * Stamps the changed fields with the time of this platform change (ms epoch). The inbound worker compares these
 * stamps with a CRM change's time, so an older HubSpot edit never overwrites a newer platform edit.
 */
export function stampFieldVersions(
  current: unknown,
  fields: readonly LeadField[],
  at: number,
): Record<string, number> {
  const versions: Record<string, number> =
    current !== null && typeof current === "object" ? { ...(current as Record<string, number>) } : {};
  for (const field of fields) versions[field] = at;
  return versions;
}
