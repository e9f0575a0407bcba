import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CONFLICT_RULES,
  DEFAULT_HUBSPOT_FIELD_MAPPING,
  conflictRuleOf,
  contactDeletedPolicyOf,
  fieldMappingOf,
  fieldMappingProblem,
  fieldOfProperty,
  isPropertyChangeEcho,
  propertiesToRead,
  resolveField,
  type FieldSides,
  type HubSpotEvent,
} from "../src/index.js";

const APP = "1000001";
function change(fields: Partial<HubSpotEvent>): HubSpotEvent {
  return { eventId: "1", portalId: "1", occurredAt: 1000, subscriptionType: "contact.propertyChange", attemptNumber: 0, objectId: "5", propertyName: "firstname", propertyValue: "Ann", ...fields };
}

describe("echo", () => {
  it("our app's change is an echo whatever its value", () => {
    expect(isPropertyChangeEcho(change({ changeSource: "INTEGRATION", sourceId: APP, propertyValue: "x" }), { appId: APP, lastPushed: {} })).toBe(true);
  });
  it("a person's change is never an echo, even back to the value we pushed", () => {
    expect(isPropertyChangeEcho(change({ changeSource: "CRM_UI", sourceId: "userId:1" }), { appId: APP, lastPushed: { firstname: "Ann" } })).toBe(false);
    expect(isPropertyChangeEcho(change({ changeSource: "INTEGRATION", sourceId: "42" }), { appId: APP, lastPushed: { firstname: "Ann" } })).toBe(false);
  });
  it("without a source, the value we last pushed is an echo and any other value is not", () => {
    expect(isPropertyChangeEcho(change({}), { appId: undefined, lastPushed: { firstname: "Ann" } })).toBe(true);
    expect(isPropertyChangeEcho(change({ propertyValue: "Bo" }), { appId: undefined, lastPushed: { firstname: "Ann" } })).toBe(false);
    // INTEGRATION without our app id known: fall back to the value.
    expect(isPropertyChangeEcho(change({ changeSource: "INTEGRATION", sourceId: APP }), { appId: undefined, lastPushed: { firstname: "Ann" } })).toBe(true);
  });
  it("only property changes can be echoes", () => {
    expect(isPropertyChangeEcho(change({ subscriptionType: "contact.creation", changeSource: "INTEGRATION", sourceId: APP }), { appId: APP, lastPushed: {} })).toBe(false);
  });
});

describe("field mapping", () => {
  it("fills the defaults and trims, ignores junk", () => {
    const mapping = fieldMappingOf({ settings: { fieldMapping: { jobTitle: " job_function ", phone: "", nope: "x" } } });
    expect(mapping).toEqual({ ...DEFAULT_HUBSPOT_FIELD_MAPPING, jobTitle: "job_function" });
    expect(fieldMappingOf({ settings: null })).toEqual(DEFAULT_HUBSPOT_FIELD_MAPPING);
    expect(fieldOfProperty(mapping, "job_function")).toBe("jobTitle");
    expect(fieldOfProperty(mapping, "jobtitle")).toBeUndefined();
    expect(propertiesToRead(mapping)).toContain("lead_source_system");
  });
  it("refuses two fields on one property and the marker property", () => {
    expect(fieldMappingProblem(fieldMappingOf({ settings: { fieldMapping: { company: "phone" } } }))).toMatch(/phone and company/);
    expect(fieldMappingProblem(fieldMappingOf({ settings: { fieldMapping: { company: "lead_source_system" } } }))).toMatch(/lead_source_system/);
    expect(fieldMappingProblem(DEFAULT_HUBSPOT_FIELD_MAPPING)).toBeNull();
  });
  it("reads the conflict rule and deletion policy with defaults", () => {
    expect(conflictRuleOf({ settings: {} })).toBe("latest_wins");
    expect(conflictRuleOf({ settings: { conflictRule: "prefer_crm" } })).toBe("prefer_crm");
    expect(conflictRuleOf({ settings: { conflictRule: "bogus" } })).toBe("latest_wins");
    expect(contactDeletedPolicyOf({ settings: { onContactDeleted: "archive" } })).toBe("archive");
    expect(contactDeletedPolicyOf({ settings: {} })).toBe("keep");
  });
});

const base: FieldSides = { crmValue: "CRM", crmChangedAt: 2000, crmChangeIsForeign: true, leadValue: "LEAD", leadChangedAt: 1500, lastPushedValue: undefined, lastSyncedAt: 1000 };

describe("conflict rules", () => {
  it("both sides changed since the last sync: the rule decides", () => {
    expect(resolveField(base, "latest_wins")).toEqual({ winner: "crm", conflict: true });
    expect(resolveField({ ...base, crmChangedAt: 1200 }, "latest_wins")).toEqual({ winner: "platform", reason: "conflict" });
    expect(resolveField({ ...base, crmChangedAt: 1200 }, "prefer_crm")).toEqual({ winner: "crm", conflict: true });
    expect(resolveField(base, "prefer_platform")).toEqual({ winner: "platform", reason: "conflict" });
  });
  it("no platform change since the last sync: a newer CRM value wins under every rule, an older one never", () => {
    for (const rule of CONFLICT_RULES) {
      expect(resolveField({ ...base, lastSyncedAt: 1800 }, rule)).toEqual({ winner: "crm", conflict: false });
      expect(resolveField({ ...base, lastSyncedAt: 1800, crmChangedAt: 1400 }, rule)).toEqual({ winner: "platform", reason: "older" });
    }
  });
  it("our last push coming back never overwrites, a person setting it back does", () => {
    const ours = { ...base, lastPushedValue: "CRM", crmChangeIsForeign: false };
    for (const rule of CONFLICT_RULES) expect(resolveField(ours, rule)).toEqual({ winner: "platform", reason: "own_push" });
    expect(resolveField({ ...ours, crmChangeIsForeign: true, lastSyncedAt: 1800 }, "latest_wins").winner).toBe("crm");
  });
  it("properties: the same value is never a change; prefer_* always pick their side in a conflict; latest_wins picks the later", () => {
    const sides = fc.record({
      crmValue: fc.constantFrom("a", "b"),
      crmChangedAt: fc.integer({ min: 0, max: 100 }),
      crmChangeIsForeign: fc.boolean(),
      leadValue: fc.constantFrom("a", "b", null),
      leadChangedAt: fc.integer({ min: 0, max: 100 }),
      lastPushedValue: fc.constantFrom("a", "b", undefined),
      lastSyncedAt: fc.integer({ min: 0, max: 100 }),
    });
    fc.assert(
      fc.property(sides, fc.constantFrom(...CONFLICT_RULES), (s, rule) => {
        const r = resolveField(s, rule);
        if (s.crmValue === s.leadValue) return r.winner === "platform";
        if (r.winner === "crm" && r.conflict) {
          if (rule === "prefer_platform") return false;
          if (rule === "latest_wins" && s.crmChangedAt <= s.leadChangedAt) return false;
        }
        if (r.winner === "crm" && !r.conflict && s.crmChangedAt < s.leadChangedAt) return false;
        return true;
      }),
    );
  });
});

describe("a CRM clock coarser than ours (Zoho and Pipedrive stamp whole seconds)", () => {
  // The platform edited at 10.600 s and we pushed at 10.700 s; a person then edited the CRM at 10.900 s, stamped 10.000 s.
  const sides: FieldSides = {
    crmValue: "COO",
    crmChangedAt: 10_000,
    crmChangeIsForeign: false,
    leadValue: "Head of Ops",
    leadChangedAt: 10_600,
    lastPushedValue: "Head of Ops",
    lastSyncedAt: 10_700,
  };
  it("an exact clock calls the CRM value older", () => {
    expect(resolveField(sides, "latest_wins")).toEqual({ winner: "platform", reason: "older" });
  });
  it("within one tick the ledger decides: the CRM held our push and now holds another value, so the person's edit wins", () => {
    expect(resolveField({ ...sides, crmClockResolutionMs: 1000, crmReadAt: 10_950 }, "latest_wins")).toEqual({ winner: "crm", conflict: false });
  });
  it("…but only for a read made after that sync: a read from before it (a worker stalled mid-batch) is old", () => {
    expect(resolveField({ ...sides, crmClockResolutionMs: 1000, crmReadAt: 10_650 }, "latest_wins")).toEqual({ winner: "platform", reason: "older" });
    expect(resolveField({ ...sides, crmClockResolutionMs: 1000 }, "latest_wins")).toEqual({ winner: "platform", reason: "older" });
  });
  it("a value a whole tick older stays older, and without a ledger entry time alone decides", () => {
    expect(resolveField({ ...sides, crmChangedAt: 9_000, crmClockResolutionMs: 1000, crmReadAt: 10_950 }, "latest_wins")).toEqual({ winner: "platform", reason: "older" });
    expect(resolveField({ ...sides, lastPushedValue: undefined, crmClockResolutionMs: 1000, crmReadAt: 10_950 }, "latest_wins")).toEqual({ winner: "platform", reason: "older" });
  });
});
