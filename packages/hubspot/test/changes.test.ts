import { changeDedupeKey, eventDedupeKey, hubspotEventSchema, isEchoOfOurWrite } from "@leadsync/core";
import { describe, expect, it } from "vitest";
import { parseHubSpotChanges, toRecordChange } from "../src/changes.js";

const APP = "1000001";
const event = (fields: Record<string, unknown>) =>
  hubspotEventSchema.parse({ eventId: 7, portalId: 62515, objectId: 123, occurredAt: 1_700_000_000_000, attemptNumber: 0, ...fields });

describe("HubSpot webhook events as record changes", () => {
  it("maps each subscription type to a change kind; a property change carries its one field", () => {
    const kinds = ["contact.creation", "contact.propertyChange", "contact.deletion", "contact.restore", "contact.privacyDeletion", "company.creation"].map(
      (subscriptionType) => toRecordChange(event({ subscriptionType, propertyName: "phone", propertyValue: "1" }), APP).kind,
    );
    expect(kinds).toEqual(["create", "update", "delete", "restore", "privacy_delete", "unsupported"]);
    const change = toRecordChange(event({ subscriptionType: "contact.propertyChange", propertyName: "phone", propertyValue: "555" }), APP);
    expect(change).toMatchObject({ provider: "hubspot", accountId: "62515", recordId: "123", fields: { phone: "555" }, type: "contact.propertyChange" });
    expect(toRecordChange(event({ subscriptionType: "contact.creation" }), APP).fields).toBeUndefined();
  });

  it("a merge is about the survivor and names the merged-away contacts", () => {
    const merge = toRecordChange(event({ subscriptionType: "contact.merge", primaryObjectId: 123, mergedObjectIds: [456, 789], newObjectId: 999 }), APP);
    expect(merge).toMatchObject({ kind: "merge", recordId: "999" });
    expect(merge.mergedIds?.sort()).toEqual(["123", "456", "789"]);
  });

  it("origin: our app is self, a person or another app is other, no source is unknown", () => {
    const origin = (fields: Record<string, unknown>) => toRecordChange(event({ subscriptionType: "contact.propertyChange", ...fields }), APP).origin;
    expect(origin({ changeSource: "INTEGRATION", sourceId: APP })).toBe("self");
    expect(origin({ changeSource: "INTEGRATION", sourceId: "2000002" })).toBe("other");
    expect(origin({ changeSource: "CRM_UI", sourceId: "userId:1" })).toBe("other");
    expect(origin({})).toBe("unknown");
  });

  it("keeps the stored identity of HubSpot events: a redelivery (attemptNumber bumped) has the same dedupe key as before", () => {
    const first = event({ subscriptionType: "contact.creation" });
    const retried = event({ subscriptionType: "contact.creation", attemptNumber: 3 });
    expect(changeDedupeKey(toRecordChange(first, APP))).toBe(eventDedupeKey(first));
    expect(changeDedupeKey(toRecordChange(retried, APP))).toBe(changeDedupeKey(toRecordChange(first, APP)));
  });

  it("drops what is not a HubSpot event and keeps the rest", () => {
    const changes = parseHubSpotChanges([{ ...event({ subscriptionType: "contact.creation" }) }, { nonsense: true }], APP);
    expect(changes.map((c) => c.recordId)).toEqual(["123"]);
  });
});

describe("echo of our own write, for any provider", () => {
  it("self is an echo, other never is, unknown is decided by the write ledger", () => {
    expect(isEchoOfOurWrite({ origin: "self", fields: { phone: "1" } }, {})).toBe(true);
    expect(isEchoOfOurWrite({ origin: "other", fields: { phone: "1" } }, { phone: "1" })).toBe(false);
    expect(isEchoOfOurWrite({ origin: "unknown", fields: { phone: "1", title: "CEO" } }, { phone: "1", title: "CEO" })).toBe(true);
    expect(isEchoOfOurWrite({ origin: "unknown", fields: { phone: "1", title: "CTO" } }, { phone: "1", title: "CEO" })).toBe(false);
    expect(isEchoOfOurWrite({ origin: "unknown" }, { phone: "1" })).toBe(false);
    expect(isEchoOfOurWrite({ origin: "unknown", fields: { phone: null } }, { phone: "1" })).toBe(false);
  });
});
