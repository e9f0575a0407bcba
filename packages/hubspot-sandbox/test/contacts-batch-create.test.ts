import type { Client } from "@hubspot/api-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PortalInfo, Sandbox } from "../src/index.js";
import { admin, apiError, sandboxWithPortal } from "./helpers.js";

// Batch create as HubSpot answers it: with an objectWriteTraceId on every input, failures are reported per input
// (207) and the other inputs are created; without, the first conflict fails the whole batch (409).

let sandbox: Sandbox;
let portal: PortalInfo;
let client: Client;

beforeAll(async () => {
  ({ sandbox, portal, client } = await sandboxWithPortal({}, { tier: "unlimited" }));
});
afterAll(async () => {
  await sandbox.close();
});

async function personCreates(email: string): Promise<string> {
  const { body } = await admin<{ ids: string[] }>(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, {
    contacts: [{ properties: { email, firstname: "Person" } }],
  });
  return String(body.ids[0]);
}

async function contactCount(): Promise<number> {
  const { body } = await admin<{ results: unknown[] }>(sandbox, "GET", `/__sandbox/portals/${portal.portalId}/contacts`);
  return body.results.length;
}

describe("batch create with objectWriteTraceId on every input (multi-status)", () => {
  it("creates the new inputs and reports the taken email as a 409-style error naming the existing id and the trace id", async () => {
    const existingId = await personCreates("taken@example.com");
    const response = await client.crm.contacts.batchApi.createWithHttpInfo({
      inputs: [
        { properties: { email: "new1@example.com", firstname: "One" }, associations: [], objectWriteTraceId: "t-1" },
        { properties: { email: "Taken@Example.com", firstname: "Ours" }, associations: [], objectWriteTraceId: "t-2" },
        { properties: { email: "new2@example.com" }, associations: [], objectWriteTraceId: "t-3" },
      ],
    });
    expect(response.httpStatusCode).toBe(207);
    const body = response.data as typeof response.data & { errors?: Array<{ category: string; message: string; context: Record<string, string[]> }> };
    expect(body.results.map((r) => r.objectWriteTraceId).sort()).toEqual(["t-1", "t-3"]);
    expect(body.results.find((r) => r.objectWriteTraceId === "t-1")?.properties).toMatchObject({ email: "new1@example.com", firstname: "One" });
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]).toMatchObject({
      category: "CONFLICT",
      message: `Contact already exists. Existing ID: ${existingId}`,
      context: { objectWriteTraceId: ["t-2"] },
    });
    // The person's contact was not touched.
    const existing = await client.crm.contacts.basicApi.getById(existingId, ["firstname"]);
    expect(existing.properties["firstname"]).toBe("Person");
  });

  it("fails an input with an invalid value alone, naming the property", async () => {
    const response = await client.crm.contacts.batchApi.createWithHttpInfo({
      inputs: [
        { properties: { email: "bad@example.com", no_such_property: "x" }, associations: [], objectWriteTraceId: "bad" },
        { properties: { email: "not-an-email" }, associations: [], objectWriteTraceId: "bad-email" },
        { properties: { email: "good@example.com" }, associations: [], objectWriteTraceId: "good" },
      ],
    });
    expect(response.httpStatusCode).toBe(207);
    const body = response.data as typeof response.data & { errors?: Array<{ category: string; context: Record<string, string[]> }> };
    expect(body.results.map((r) => r.objectWriteTraceId)).toEqual(["good"]);
    expect(body.errors?.map((e) => [e.category, e.context["objectWriteTraceId"]])).toEqual([
      ["VALIDATION_ERROR", ["bad"]],
      ["VALIDATION_ERROR", ["bad-email"]],
    ]);
    expect(body.errors?.[0]?.context["propertyName"]).toEqual(["no_such_property"]);
  });

  it("answers 201 when every input is created", async () => {
    const response = await client.crm.contacts.batchApi.createWithHttpInfo({
      inputs: [{ properties: { email: "all-good@example.com" }, associations: [], objectWriteTraceId: "ok" }],
    });
    expect(response.httpStatusCode).toBe(201);
    expect(response.data.results[0]?.objectWriteTraceId).toBe("ok");
  });
});

describe("batch create without trace ids", () => {
  it("fails the whole batch with 409 on the first taken email and creates nothing", async () => {
    const existingId = await personCreates("taken-again@example.com");
    const before = await contactCount();
    const error = await apiError(
      client.crm.contacts.batchApi.create({
        inputs: [
          { properties: { email: "would-be-new@example.com" }, associations: [] },
          { properties: { email: "taken-again@example.com" }, associations: [] },
        ],
      }),
    );
    expect(error.code).toBe(409);
    expect(error.body["message"]).toBe(`Contact already exists. Existing ID: ${existingId}`);
    expect(await contactCount()).toBe(before);
  });
});
