import { DEFAULT_HUBSPOT_FIELD_MAPPING, LEAD_SOURCE_PROPERTY, readPushedFields, withPushed } from "@leadsync/core";
import { describe, expect, it } from "vitest";
import { conflictUpdate, planPush, type OutboundLead } from "../src/outbound/plan-push.js";

const marker = "jazzaam";
/** A HubSpot integration's plan options (the worker passes its integration's). */
const hubspot = { marker, mapping: DEFAULT_HUBSPOT_FIELD_MAPPING, markerField: LEAD_SOURCE_PROPERTY, provider: "hubspot" };
const lead = (overrides: Partial<OutboundLead> = {}): OutboundLead => ({
  id: "lead-1",
  email: "ada@example.com",
  firstName: "Ada",
  lastName: null,
  phone: "+1",
  source: marker,
  link: undefined,
  ...overrides,
});
const pushedAt = (properties: Record<string, string>, at = 1000) => withPushed({}, properties, at);

describe("planPush", () => {
  it("creates unlinked leads with the marker, and a lead that came from HubSpot without it", () => {
    const plan = planPush([lead(), lead({ id: "lead-2", email: "hs@example.com", source: "hubspot" })], hubspot);
    expect(plan.creates).toEqual([
      { leadId: "lead-1", email: "ada@example.com", properties: { email: "ada@example.com", firstname: "Ada", phone: "+1", lead_source_system: marker } },
      { leadId: "lead-2", email: "hs@example.com", properties: { email: "hs@example.com", firstname: "Ada", phone: "+1" } },
    ]);
  });

  it("updates a linked lead with only the properties the CRM does not hold, and skips one it agrees with", () => {
    const lastPushed = pushedAt({ email: "ada@example.com", firstname: "Ada", phone: "+0", lead_source_system: marker });
    const plan = planPush(
      [lead({ link: { externalId: "c1", lastPushed } }), lead({ id: "same", phone: "+0", link: { externalId: "c2", lastPushed } })],
      hubspot,
    );
    expect(plan.updates).toEqual([{ leadId: "lead-1", externalId: "c1", properties: { phone: "+1" }, pushed: readPushedFields(lastPushed) }]);
    expect(plan.unchanged).toEqual(["same"]);
    expect(plan.creates).toEqual([]);
  });

  it("does not push back a value the lead took from the CRM (recorded as what the CRM holds)", () => {
    const lastPushed = pushedAt({ email: "ada@example.com", firstname: "Ada", phone: "+1" });
    expect(planPush([lead({ link: { externalId: "c1", lastPushed } })], hubspot).unchanged).toEqual(["lead-1"]);
  });

  it("reads links stored in the older flat shape", () => {
    const plan = planPush([lead({ link: { externalId: "c1", lastPushed: { email: "ada@example.com", firstname: "Ada", phone: "+0" } } })], hubspot);
    expect(plan.updates.map((u) => u.properties)).toEqual([{ phone: "+1" }]);
  });

  it("follows the integration's field mapping", () => {
    const mapping = { email: "email", firstName: "given_name", lastName: "lastname", phone: "mobilephone", company: "company", jobTitle: "jobtitle" };
    const [create] = planPush([lead()], { ...hubspot, mapping }).creates;
    expect(create?.properties).toEqual({ email: "ada@example.com", given_name: "Ada", mobilephone: "+1", lead_source_system: marker });
  });
});

describe("conflictUpdate", () => {
  it("sends every field to the person's contact but never the marker", () => {
    const [create] = planPush([lead()], hubspot).creates;
    expect(conflictUpdate(create!, "77", LEAD_SOURCE_PROPERTY)).toEqual({
      leadId: "lead-1",
      externalId: "77",
      properties: { email: "ada@example.com", firstname: "Ada", phone: "+1" },
      pushed: {},
    });
  });
});
