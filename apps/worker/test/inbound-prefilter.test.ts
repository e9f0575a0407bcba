import { DEFAULT_HUBSPOT_FIELD_MAPPING, hubspotEventSchema } from "@leadsync/core";
import { toRecordChange } from "@leadsync/hubspot";
import { describe, expect, it } from "vitest";
import { verdictWithoutRead, type KnownContact, type PrefilterContext } from "../src/inbound/prefilter.js";
import type { InboundItem } from "../src/inbound/types.js";

const APP = "1000001";

function item(fields: Record<string, unknown>): InboundItem {
  return { change: toRecordChange(hubspotEventSchema.parse({ eventId: 1, portalId: 1, objectId: 42, occurredAt: 5000, ...fields }), APP), receivedAt: 0, jobId: "j" };
}

const known: KnownContact = {
  leadId: "l",
  leadSource: "hubspot",
  fieldVersions: { firstName: 4000 },
  lastPushed: { firstname: "Ann" },
  lastSyncedAt: 4500,
  propertySyncedAt: {},
};

function ctx(overrides: Partial<PrefilterContext> = {}, contact: Partial<KnownContact> = {}): PrefilterContext {
  return { known: new Map([["42", { ...known, ...contact }]]), mapping: DEFAULT_HUBSPOT_FIELD_MAPPING, rule: "latest_wins", marker: "jazzaam", ...overrides };
}

const change = (extra: Record<string, unknown> = {}) =>
  item({ subscriptionType: "contact.propertyChange", propertyName: "firstname", propertyValue: "Bo", changeSource: "CRM_UI", sourceId: "userId:1", ...extra });

describe("verdictWithoutRead", () => {
  it("our app's change and the creation of a contact we created are echoes", () => {
    expect(verdictWithoutRead(change({ changeSource: "INTEGRATION", sourceId: APP }), ctx())).toEqual({ outcome: "skipped", reason: "echo" });
    expect(verdictWithoutRead(item({ subscriptionType: "contact.creation" }), ctx({}, { leadSource: "jazzaam" }))).toEqual({ outcome: "skipped", reason: "echo" });
    expect(verdictWithoutRead(item({ subscriptionType: "contact.creation" }), ctx())).toBeUndefined();
  });

  it("a person's change needs a read, even back to the value we pushed", () => {
    expect(verdictWithoutRead(change(), ctx())).toBeUndefined();
    expect(verdictWithoutRead(change({ propertyValue: "Ann" }), ctx())).toBeUndefined();
  });

  it("a change no newer than the lead's field is stale, unless prefer_crm must weigh it against a pending platform edit", () => {
    expect(verdictWithoutRead(change({ occurredAt: 4000 }), ctx())).toEqual({ outcome: "skipped", reason: "stale" });
    const pending = { fieldVersions: { firstName: 6000 }, lastSyncedAt: 4500 };
    expect(verdictWithoutRead(change(), ctx({}, pending))).toEqual({ outcome: "skipped", reason: "stale" });
    expect(verdictWithoutRead(change(), ctx({ rule: "prefer_crm" }, pending))).toBeUndefined();
    // Pending is per property: the field was pushed after its platform edit, though the link synced earlier.
    expect(verdictWithoutRead(change(), ctx({ rule: "prefer_crm" }, { ...pending, propertySyncedAt: { firstname: 6500 } }))).toEqual({ outcome: "skipped", reason: "stale" });
  });

  it("changes of unmapped properties need no read; unknown contacts are read", () => {
    expect(verdictWithoutRead(change({ propertyName: "hs_lead_status" }), ctx())).toEqual({ outcome: "skipped", reason: "unmapped_property" });
    expect(verdictWithoutRead(change({ objectId: 7 }), ctx())).toBeUndefined();
    expect(verdictWithoutRead(item({ subscriptionType: "contact.deletion" }), ctx())).toBeUndefined();
  });
});
