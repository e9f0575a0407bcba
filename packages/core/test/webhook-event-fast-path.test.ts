import { describe, expect, it } from "vitest";
import { hubspotEventBatchSchema, parseHubSpotEventBatch } from "../src/index.js";
import { fastParseHubSpotEventBatch } from "../src/webhook-event.js";
import { HUBSPOT_SAMPLE_EVENT } from "./fixtures/hubspot-sample-event.js";

/**
 * The fast path of parseHubSpotEventBatch must be a strict subset of hubspotEventBatchSchema: whatever it accepts,
 * zod accepts with the same output (values and key order); everything else is zod's call.
 */

const propertyChange = HUBSPOT_SAMPLE_EVENT;
const creation = { eventId: 1, subscriptionId: 2, portalId: 3, appId: 4, occurredAt: 5, subscriptionType: "contact.creation", attemptNumber: 1, objectId: 6, changeFlag: "NEW", changeSource: "CRM" };
const merge = { eventId: "7", portalId: "8", occurredAt: 9, subscriptionType: "contact.merge", objectId: "10", primaryObjectId: 11, mergedObjectIds: [12, "13"], newObjectId: 14, sourceId: "userId:1" };
const legacyType = { eventId: 1, portalId: 2, occurredAt: 3, eventType: "contact.deletion", objectId: 4, objectTypeId: "0-1" };
const unknownKeys = { somethingNew: { nested: [1] }, "42": "numeric key first", isSensitive: false, ...propertyChange, extra: null };

/** Variants of a valid event: one field changed, removed or added. Many are invalid; some sit on a bound. */
function variants(event: Record<string, unknown>): unknown[] {
  const values: unknown[] = [
    undefined, null, true, 0, -0, -1, 1.5, 2 ** 53, 2 ** 53 - 1, Number.NaN, Number.POSITIVE_INFINITY, "", "0", "12",
    "-1", "1e3", " 1", "1".repeat(20), "1".repeat(21), "x".repeat(20), "x".repeat(21), "x".repeat(100), "x".repeat(101),
    "x".repeat(200), "x".repeat(201), "x".repeat(65_536), "x".repeat(65_537), [], [1, "2"], ["a"], Array.from({ length: 1001 }, () => 1), {},
  ];
  const keys = [...Object.keys(event), "subscriptionType", "eventType", "attemptNumber", "mergedObjectIds", "primaryObjectId", "sourceId"];
  const out: unknown[] = [event];
  for (const key of keys) {
    const { [key]: _removed, ...without } = event;
    out.push(without);
    for (const value of values) out.push({ ...event, [key]: value });
  }
  out.push(JSON.parse(`{"__proto__": {"x": 1}, "eventId": 1, "portalId": 2, "occurredAt": 3, "subscriptionType": "a", "objectId": 4}`));
  out.push(Object.assign(Object.create(null), event), new Date(), [event], "event", 1, null);
  return out;
}

function expectSameAsZod(batch: unknown): boolean {
  const zod = hubspotEventBatchSchema.safeParse(batch);
  const fast = fastParseHubSpotEventBatch(batch);
  if (fast !== undefined) {
    expect(zod.success).toBe(true);
    expect(fast).toStrictEqual(zod.data);
    expect(fast.map((e) => Object.keys(e))).toEqual(zod.data?.map((e) => Object.keys(e)));
  }
  const result = parseHubSpotEventBatch(batch);
  expect(result.success).toBe(zod.success);
  if (result.success) expect(result.data).toStrictEqual(zod.data);
  else expect(result.error.issues).toEqual(zod.error?.issues);
  return fast !== undefined;
}

describe("parseHubSpotEventBatch", () => {
  it("takes the fast path for HubSpot's usual events, with zod's exact output", () => {
    for (const event of [propertyChange, creation, merge, legacyType, unknownKeys]) {
      expect(expectSameAsZod([event])).toBe(true);
    }
    expect(expectSameAsZod(Array.from({ length: 100 }, (_, i) => ({ ...propertyChange, eventId: i })))).toBe(true);
  });

  it("agrees with zod on every variant of every field, valid or not", () => {
    let fast = 0;
    let total = 0;
    for (const event of [propertyChange, creation, merge, legacyType, unknownKeys]) {
      for (const variant of variants(event)) {
        total++;
        if (expectSameAsZod([event, variant])) fast++;
      }
    }
    // Both kinds were exercised: the fast path took the plain variants, zod the rest.
    expect(fast).toBeGreaterThan(100);
    expect(total - fast).toBeGreaterThan(100);
  });

  it("leaves batch-level rejections to zod", () => {
    for (const batch of [[], Array.from({ length: 101 }, () => propertyChange), { ...propertyChange }, "[]", null]) {
      expect(fastParseHubSpotEventBatch(batch)).toBeUndefined();
      expect(expectSameAsZod(batch)).toBe(false);
      expect(parseHubSpotEventBatch(batch).success).toBe(false);
    }
  });
});
