import { LEAD_SOURCE_PROPERTY, leadToContactProperties, type LeadFieldValues } from "@leadsync/core";

export interface OutboundLead extends LeadFieldValues {
  id: string;
  email: string;
  source: string;
}

export interface MarkerContext {
  /** What we last pushed to the linked contact; undefined when the lead has no link yet. */
  lastPushed: Record<string, unknown> | undefined;
  /** The CRM already has a contact with the lead's email (it was created there, not by us). */
  existsInCrm: boolean;
  marker: string;
}

/**
 * Whether a push carries `lead_source_system = marker`. Only contacts we create are marked: a lead that came
 * from HubSpot, or whose contact a person created in HubSpot first, keeps that contact's origin. A linked
 * contact keeps getting the marker only if our first push set it.
 */
export function carriesMarker(lead: OutboundLead, ctx: MarkerContext): boolean {
  if (lead.source === "hubspot") return false;
  if (ctx.lastPushed !== undefined) return ctx.lastPushed[LEAD_SOURCE_PROPERTY] === ctx.marker;
  return !ctx.existsInCrm;
}

export function contactPropertiesFor(lead: OutboundLead, withMarker: boolean, marker: string): Record<string, string> {
  const properties = leadToContactProperties(lead);
  if (withMarker) properties[LEAD_SOURCE_PROPERTY] = marker;
  return properties;
}
