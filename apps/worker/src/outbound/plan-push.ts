import {
  changedProperties,
  leadToContactProperties,
  readPushedFields,
  type FieldMapping,
  type LeadFieldValues,
  type PushedFields,
  type UpdateInput,
  type UpsertInput,
} from "@leadsync/core";

/** A lead as the outbound worker loads it, with its link to this integration's contact (if any). */
export interface OutboundLead extends LeadFieldValues {
  id: string;
  email: string;
  source: string;
  link: { externalId: string; lastPushed: unknown } | undefined;
}

/** An update plus what the CRM held before it (merged with what it sends into the link's `lastPushed`). */
export interface PlannedUpdate extends UpdateInput {
  pushed: PushedFields;
}

export interface PushPlan {
  /** Leads with no contact yet: created with the marker (one call per 100). */
  creates: UpsertInput[];
  /** Linked leads with fields the CRM does not hold yet: only those fields. */
  updates: PlannedUpdate[];
  /** Linked leads the CRM already agrees with: no call at all. */
  unchanged: string[];
}

export interface PlanOptions {
  marker: string;
  mapping: FieldMapping;
  /** The provider client's marker field. */
  markerField: string;
  /** The integration's provider: a lead that came from it is recreated without claiming it for the platform. */
  provider: string;
}

/**
 * What one batch of leads costs in HubSpot. Unlinked leads are created with `lead_source_system = marker`
 * (a taken email is answered per input and handled by `conflictUpdate`). Linked leads send only the mapped
 * properties whose value differs from what the CRM last had from us or from the last inbound read
 * (`lastPushed`): a value the lead took from HubSpot is never pushed back. The marker goes only to contacts we
 * created — `lastPushed` already holds it for those, so it is never re-sent.
 */
export function planPush(
  leads: readonly OutboundLead[],
  { marker, mapping, markerField, provider }: PlanOptions,
): PushPlan {
  const plan: PushPlan = { creates: [], updates: [], unchanged: [] };
  for (const lead of leads) {
    const properties = leadToContactProperties(lead, mapping);
    if (!lead.link) {
      // A lead that came from this CRM and lost its record is recreated without claiming it for the platform.
      if (lead.source !== provider) properties[markerField] = marker;
      plan.creates.push({ leadId: lead.id, email: lead.email, properties });
      continue;
    }
    const pushed = readPushedFields(lead.link.lastPushed);
    const changed = changedProperties(properties, pushed);
    if (Object.keys(changed).length === 0) plan.unchanged.push(lead.id);
    else plan.updates.push({ leadId: lead.id, externalId: lead.link.externalId, properties: changed, pushed });
  }
  return plan;
}

/**
 * The contact already existed in HubSpot (a person created it first): the lead links to it and pushes its fields
 * without the marker, so the contact keeps its origin. Nothing is known of what it holds, so every field goes.
 */
export function conflictUpdate(create: UpsertInput, existingId: string, markerField: string): PlannedUpdate {
  const { [markerField]: _marker, ...properties } = create.properties;
  return { leadId: create.leadId, externalId: existingId, properties, pushed: {} };
}

/** Whether a create carries the marker (for the log line that explains it). */
export function carriesMarker(input: UpsertInput, marker: string, markerField: string): boolean {
  return input.properties[markerField] === marker;
}
