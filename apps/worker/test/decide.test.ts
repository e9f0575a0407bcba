import { DEFAULT_HUBSPOT_FIELD_MAPPING, LEAD_SOURCE_PROPERTY, hubspotEventSchema, type CrmContact } from "@leadsync/core";
import { toRecordChange } from "@leadsync/hubspot";
import { describe, expect, it } from "vitest";
import { decideContact, type ContactContext } from "../src/inbound/decide.js";
import type { LeadState } from "../src/inbound/merge-fields.js";
import type { InboundItem } from "../src/inbound/types.js";

const marker = "jazzaam";

function event(type: string, occurredAt = 1000, extra: Record<string, unknown> = {}): InboundItem {
  return {
    change: toRecordChange(hubspotEventSchema.parse({ eventId: occurredAt, portalId: 1, occurredAt, subscriptionType: type, objectId: 42, ...extra }), undefined),
    receivedAt: occurredAt,
    jobId: "j",
  };
}

function contact(properties: Record<string, string | null>, updatedAt = 2000): CrmContact {
  return { id: "42", properties, updatedAt };
}

function lead(overrides: Partial<LeadState> = {}): LeadState {
  return { id: "lead-1", email: "ann@example.com", firstName: "Ann", lastName: null, phone: null, company: null, jobTitle: null, fieldVersions: {}, ...overrides };
}

function decide(ctx: Partial<ContactContext>) {
  return decideContact({ contactId: "42", items: [event("contact.creation")], contact: undefined, linked: undefined, leadWithEmail: undefined, marker, mapping: DEFAULT_HUBSPOT_FIELD_MAPPING, markerField: LEAD_SOURCE_PROPERTY, ...ctx });
}

describe("decideContact", () => {
  it("creates a lead from a new HubSpot contact", () => {
    const d = decide({ contact: contact({ email: "New@Example.com ", firstname: "New", lead_source_system: null }) });
    expect(d.action).toMatchObject({ kind: "create", fields: { email: "new@example.com", firstName: "New" } });
    expect(d.verdictFor(event("contact.creation"))).toEqual({ outcome: "processed", reason: null });
  });

  it("never creates a lead for a contact our platform created; links it to the lead with its email", () => {
    const own = contact({ email: "ann@example.com", lead_source_system: marker });
    expect(decide({ contact: own }).action).toEqual({ kind: "none" });
    expect(decide({ contact: own }).skipReason).toBe("own_record");
    expect(decide({ contact: own, leadWithEmail: { lead: lead(), linkedToOtherContact: false } }).action).toEqual({ kind: "link", leadId: "lead-1" });
  });

  it("skips contacts without email and contacts HubSpot no longer returns", () => {
    expect(decide({ contact: contact({ email: null, firstname: "X" }) }).skipReason).toBe("no_email");
    expect(decide({ contact: undefined }).skipReason).toBe("not_found");
  });

  it("links and updates the org's lead with the same email instead of duplicating it", () => {
    const d = decide({ contact: contact({ email: "ann@example.com", jobtitle: "CTO" }), leadWithEmail: { lead: lead(), linkedToOtherContact: false } });
    expect(d.action).toMatchObject({ kind: "update", createLink: true, changes: { jobTitle: "CTO" } });
  });

  it("applies a person's edit to a linked lead, but neither our own echo nor an older read", () => {
    const items = [event("contact.propertyChange", 1500, { propertyName: "phone", propertyValue: "+1" })];
    const linked = { lead: lead({ phone: "+0", fieldVersions: { phone: 1000 } }), lastPushed: { phone: "+0" } };
    expect(decide({ items, linked, contact: contact({ email: "ann@example.com", phone: "+1" }, 2000) }).action).toMatchObject({
      kind: "update",
      changes: { phone: "+1" },
      fieldVersions: { phone: 2000 },
    });
    const echo = { lead: lead({ phone: "+2" }), lastPushed: { phone: "+1" } };
    expect(decide({ items, linked: echo, contact: contact({ email: "ann@example.com", phone: "+1" }) }).action).toEqual({ kind: "none" });
    const newer = { lead: lead({ phone: "+2", fieldVersions: { phone: 5000 } }), lastPushed: {} };
    expect(decide({ items, linked: newer, contact: contact({ email: "ann@example.com", phone: "+1" }, 2000) }).action).toEqual({ kind: "none" });
  });

  it("unlinks on deletion and keeps the lead", () => {
    const d = decide({ items: [event("contact.deletion")], linked: { lead: lead(), lastPushed: {} } });
    expect(d.action).toEqual({ kind: "unlink", leadId: "lead-1" });
    expect(d.verdictFor(event("contact.deletion"))).toEqual({ outcome: "processed", reason: null });
  });
});
