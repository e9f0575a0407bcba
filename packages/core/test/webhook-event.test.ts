import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventDedupeKey, hubspotEventBatchSchema, hubspotEventSchema } from "../src/index.js";
import { HUBSPOT_SAMPLE_EVENT } from "./fixtures/hubspot-sample-event.js";

const base = HUBSPOT_SAMPLE_EVENT;

describe("hubspotEventSchema", () => {
  it("parses HubSpot's documented example and normalises ids to strings", () => {
    const event = hubspotEventSchema.parse(base);
    expect(event.portalId).toBe("33");
    expect(event.objectId).toBe("1246965");
    expect(event.subscriptionType).toBe("contact.propertyChange");
  });

  it("accepts the docs' eventType spelling as subscriptionType", () => {
    const { subscriptionType: _, ...rest } = base;
    expect(hubspotEventSchema.parse({ ...rest, eventType: "contact.creation" }).subscriptionType).toBe("contact.creation");
  });

  it("keeps unknown fields, so a redelivery hashes and stores the same", () => {
    expect(hubspotEventSchema.parse({ ...base, somethingNew: 1 })).toMatchObject({ somethingNew: 1 });
  });

  it("rejects wrong types and missing fields", () => {
    expect(hubspotEventSchema.safeParse({ ...base, objectId: "abc" }).success).toBe(false);
    expect(hubspotEventSchema.safeParse({ ...base, occurredAt: "yesterday" }).success).toBe(false);
    const { subscriptionType: _, ...noType } = base;
    expect(hubspotEventSchema.safeParse(noType).success).toBe(false);
  });

  it("takes batches of 1 to 100 events", () => {
    expect(hubspotEventBatchSchema.safeParse([]).success).toBe(false);
    expect(hubspotEventBatchSchema.safeParse(Array.from({ length: 100 }, () => base)).success).toBe(true);
    expect(hubspotEventBatchSchema.safeParse(Array.from({ length: 101 }, () => base)).success).toBe(false);
    expect(hubspotEventBatchSchema.safeParse({ ...base }).success).toBe(false);
  });
});

describe("eventDedupeKey", () => {
  const event = hubspotEventSchema.parse(base);

  it("keeps its stored format: keys already in webhook_events must match the same events after an upgrade", () => {
    const content = ["hubspot", "33", "contact.propertyChange", "1246965", "lifecyclestage", "subscriber", "1462216307945", "3816279340"];
    expect(eventDedupeKey(event)).toBe(createHash("sha256").update(content.join("\u001f")).digest("base64url"));
  });

  it("ignores attemptNumber: a retry is the same event", () => {
    expect(eventDedupeKey(hubspotEventSchema.parse({ ...base, attemptNumber: 3 }))).toBe(eventDedupeKey(event));
  });

  it("differs when the content differs, even with the same eventId", () => {
    expect(eventDedupeKey(hubspotEventSchema.parse({ ...base, propertyValue: "lead" }))).not.toBe(eventDedupeKey(event));
    expect(eventDedupeKey(hubspotEventSchema.parse({ ...base, occurredAt: base.occurredAt + 1 }))).not.toBe(eventDedupeKey(event));
    expect(eventDedupeKey(hubspotEventSchema.parse({ ...base, portalId: 34 }))).not.toBe(eventDedupeKey(event));
  });
});
