import { describe, expect, it } from "vitest";
import { changeDedupeKey } from "@leadsync/core";
import { clientOf, decodeReplayId, encodeReplayId, kindOf, mapChangeEvent, originOf, type DecodedChangeEvent } from "../src/change-events.js";

const ORG = "00D5g000000AbCdEAF";
const USER = "0055g000001IntUsAAA";
const LEAD = "00Q5g00000AbCdEFGH";

function event(header: Partial<DecodedChangeEvent["header"]>, fields: Record<string, unknown> = {}): DecodedChangeEvent {
  return {
    replayId: Buffer.from([0, 0, 0, 0, 0, 0, 0x12, 0x34]),
    header: {
      entityName: "Lead",
      recordIds: [LEAD],
      changeType: "UPDATE",
      changeOrigin: "",
      transactionKey: "0004c6b4-1c8c-d2d0-4e8e-a9c5b5c5a4c3",
      sequenceNumber: 1,
      commitTimestamp: 1_796_279_237_000,
      commitUser: "005000000000000AAA",
      changedFields: [],
      nulledFields: [],
      diffFields: [],
      ...header,
    },
    fields,
  };
}

describe("CDC change origin", () => {
  it("reads the client id out of changeOrigin", () => {
    expect(clientOf("com/salesforce/api/rest/62.0;client=leadsync")).toBe("leadsync");
    expect(clientOf("com/salesforce/api/soap/49.0;client=Astro")).toBe("Astro");
    expect(clientOf("com/salesforce/api/rest/50.0")).toBeUndefined();
    expect(clientOf("")).toBeUndefined();
  });

  it("is ours for client=leadsync, someone else's for another client or an empty origin (a UI edit)", () => {
    expect(originOf({ changeOrigin: "com/salesforce/api/rest/62.0;client=leadsync", commitUser: "005x" }, USER)).toBe("self");
    expect(originOf({ changeOrigin: "com/salesforce/api/rest/62.0;client=Zapier", commitUser: USER }, USER)).toBe("other");
    expect(originOf({ changeOrigin: "", commitUser: USER }, USER)).toBe("other");
  });

  it("falls back to commitUser when an API write names no client", () => {
    expect(originOf({ changeOrigin: "com/salesforce/api/rest/62.0", commitUser: USER }, USER)).toBe("self");
    expect(originOf({ changeOrigin: "com/salesforce/api/rest/62.0", commitUser: USER.slice(0, 15) }, USER)).toBe("self");
    expect(originOf({ changeOrigin: "com/salesforce/api/rest/62.0", commitUser: "005000000000000AAA" }, USER)).toBe("other");
    expect(originOf({ changeOrigin: "com/salesforce/api/rest/62.0", commitUser: USER }, undefined)).toBe("other");
  });
});

describe("CDC change type", () => {
  it("maps CREATE/UPDATE/DELETE/UNDELETE and every gap to a read", () => {
    expect(kindOf("CREATE")).toBe("create");
    expect(kindOf("UPDATE")).toBe("update");
    expect(kindOf("DELETE")).toBe("delete");
    expect(kindOf("UNDELETE")).toBe("restore");
    for (const gap of ["GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW"]) expect(kindOf(gap)).toBe("update");
  });
});

describe("mapChangeEvent", () => {
  it("turns an update into one change per record with the changed and nulled fields' values", () => {
    const other = "00Q5g00000AbCdEXYZ";
    const mapped = mapChangeEvent(
      event(
        { recordIds: [LEAD, other], changedFields: ["Name.FirstName", "Phone", "LastModifiedDate"], nulledFields: ["Phone"], changeOrigin: "com/salesforce/api/rest/62.0;client=leadsync" },
        { Name: { FirstName: "Ada", LastName: null }, Phone: null, LastModifiedDate: 1_796_279_237_000, Company: null },
      ),
      { accountId: ORG, userId: USER },
    );
    expect(mapped.reconcile).toBeUndefined();
    expect(mapped.changes).toHaveLength(2);
    const [first, second] = mapped.changes;
    expect(first).toMatchObject({
      provider: "salesforce",
      accountId: ORG,
      recordId: LEAD,
      kind: "update",
      type: "UPDATE",
      origin: "self",
      occurredAt: 1_796_279_237_000,
      eventId: encodeReplayId(Buffer.from([0, 0, 0, 0, 0, 0, 0x12, 0x34])),
      fields: { FirstName: "Ada", Phone: null, LastModifiedDate: "1796279237000" },
    });
    expect(second?.recordId).toBe(other);
    // One event, two records: two identities; the same event delivered again: the same ones.
    expect(first?.identity).not.toBe(second?.identity);
    const again = mapChangeEvent(event({ recordIds: [LEAD, other] }), { accountId: ORG, userId: USER });
    expect(changeDedupeKey(again.changes[0] as never)).toBe(changeDedupeKey(first as never));
  });

  it("carries every non-null field of a create, with our placeholders read as no value", () => {
    const mapped = mapChangeEvent(
      event({ changeType: "CREATE" }, { Name: { FirstName: "Ada", LastName: "[not provided]" }, Company: "[not provided]", Email: "ada@example.com", Lead_Source_System__c: "jazzaam", Title: null }),
      { accountId: ORG, userId: USER },
    );
    expect(mapped.changes[0]?.kind).toBe("create");
    expect(mapped.changes[0]?.fields).toEqual({ FirstName: "Ada", Email: "ada@example.com", Lead_Source_System__c: "jazzaam" });
  });

  it("reads nothing into deletes and gap events: the worker reads the record", () => {
    const deleted = mapChangeEvent(event({ changeType: "DELETE" }), { accountId: ORG, userId: USER });
    expect(deleted.changes[0]).toMatchObject({ kind: "delete" });
    expect(deleted.changes[0]).not.toHaveProperty("fields");
    const gap = mapChangeEvent(event({ changeType: "GAP_UPDATE", changedFields: ["Phone"] }, { Phone: "1" }), { accountId: ORG, userId: USER });
    expect(gap.changes[0]).toMatchObject({ kind: "update", type: "GAP_UPDATE" });
    expect(gap.changes[0]).not.toHaveProperty("fields");
    const restored = mapChangeEvent(event({ changeType: "UNDELETE" }, { Email: "a@b.co" }), { accountId: ORG, userId: USER });
    expect(restored.changes[0]).toMatchObject({ kind: "restore", fields: { Email: "a@b.co" } });
  });

  it("asks for reconciliation when an event names no single records", () => {
    const overflow = mapChangeEvent(event({ changeType: "GAP_OVERFLOW", recordIds: [] }), { accountId: ORG, userId: USER });
    expect(overflow.changes).toEqual([]);
    expect(overflow.reconcile).toMatch(/GAP_OVERFLOW/);
    const wildcard = mapChangeEvent(event({ recordIds: ["00Q*"] }), { accountId: ORG, userId: USER });
    expect(wildcard.changes).toEqual([]);
    expect(wildcard.reconcile).toBeDefined();
  });

  it("keeps replay ids as base64 checkpoints, byte for byte", () => {
    const bytes = Buffer.from([0, 0, 0, 0, 0, 0, 0xff, 0x01]);
    expect(decodeReplayId(encodeReplayId(bytes)).equals(bytes)).toBe(true);
  });
});
