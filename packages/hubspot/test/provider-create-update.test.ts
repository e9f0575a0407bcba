import type { UpsertInput } from "@leadsync/core";
import type { Sandbox } from "@leadsync/hubspot-sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromHttpError } from "../src/errors.js";
import { HubSpotProvider } from "../src/hubspot-provider.js";
import { ensureLeadSourceProperty } from "../src/properties.js";
import { createHubSpotClient } from "../src/sdk-client.js";
import { createWithNarrowing, type WriteBatchResponse } from "../src/upsert-batch.js";
import { injectFault, sandboxStats, seedContacts, silentLogger, startTestSandbox } from "./sandbox-helpers.js";

// createContacts / updateContacts: one call per 100, per-input results, a taken email answered with the existing
// contact's id (nothing written to it), bad inputs failing alone.

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(async () => {
  await sandbox.close();
});

async function portalWithProperty() {
  const portal = sandbox.createPortal({ tier: "unlimited" });
  await ensureLeadSourceProperty(createHubSpotClient({ basePath: sandbox.url, accessToken: portal.accessToken }));
  const provider = new HubSpotProvider({
    portalId: String(portal.portalId),
    basePath: sandbox.url,
    getAccessToken: async () => portal.accessToken,
    logger: silentLogger,
  });
  return { portal, provider };
}

const calls = async (portalId: number, endpoint: string) => (await sandboxStats(sandbox, portalId)).calls.byEndpoint[`POST /crm/v3/objects/contacts/batch/${endpoint}`] ?? 0;

describe("HubSpotProvider.createContacts", () => {
  it("creates 250 contacts in 3 calls, results in input order", async () => {
    const { portal, provider } = await portalWithProperty();
    const inputs = Array.from({ length: 250 }, (_, i) => ({ leadId: `lead-${i}`, email: `New${i}@Example.com`, properties: { firstname: `N${i}` } }));
    const results = await provider.createContacts(inputs);
    expect(results.map((r) => r.leadId)).toEqual(inputs.map((i) => i.leadId));
    expect(results.every((r) => r.ok && r.created)).toBe(true);
    expect(await calls(portal.portalId, "create")).toBe(3);
    const first = results[0];
    if (!first?.ok) throw new Error("unreachable");
    expect(first.properties).toMatchObject({ email: "new0@example.com", firstname: "N0" });
  });

  it("answers a taken email with the existing contact's id and leaves that contact alone; a bad value fails alone", async () => {
    const { portal, provider } = await portalWithProperty();
    const [existingId] = await seedContacts(sandbox, portal.portalId, 1); // seed0@example.com, firstname Seed0
    const results = await provider.createContacts([
      { leadId: "fresh", email: "fresh@example.com", properties: { lead_source_system: "jazzaam" } },
      { leadId: "taken", email: "SEED0@example.com", properties: { firstname: "Ours", lead_source_system: "jazzaam" } },
      { leadId: "bad", email: "bad@example.com", properties: { lead_source_system: "not-an-option" } },
    ]);
    expect(results).toMatchObject([
      { leadId: "fresh", ok: true, created: true },
      { leadId: "taken", ok: false, retryable: false, existingId },
      { leadId: "bad", ok: false, retryable: false },
    ]);
    const bad = results[2];
    if (bad?.ok === false) expect(bad.message).toContain("lead_source_system");
    expect(await calls(portal.portalId, "create")).toBe(1);
    const person = await createHubSpotClient({ basePath: sandbox.url, accessToken: portal.accessToken }).crm.contacts.basicApi.getById(
      existingId as string,
      ["firstname", "lead_source_system"],
    );
    expect(person.properties).toMatchObject({ firstname: "Seed0", lead_source_system: null });
  });

  it("throws a retryable error when HubSpot fails before anything was written", async () => {
    const { portal, provider } = await portalWithProperty();
    await injectFault(sandbox, { portalId: portal.portalId, kind: "error", status: 503, count: 1 });
    await expect(provider.createContacts([{ leadId: "l", email: "l@example.com", properties: {} }])).rejects.toMatchObject({ status: 503, retryable: true });
  });
});

describe("createWithNarrowing", () => {
  it("narrows a whole-batch 409 (a HubSpot that ignores trace ids) down to the input, with its existing id", async () => {
    const sent: number[] = [];
    const send = async (batch: readonly UpsertInput[]): Promise<WriteBatchResponse> => {
      sent.push(batch.length);
      if (batch.some((i) => i.email === "taken@example.com")) {
        throw fromHttpError(409, { category: "CONFLICT", message: "Contact already exists. Existing ID: 42" }, {}, "create");
      }
      return { results: batch.map((i) => ({ id: `c-${i.leadId}`, properties: {}, objectWriteTraceId: i.leadId })) };
    };
    const inputs = ["a", "b", "taken", "d"].map((n) => ({ leadId: n, email: `${n}@example.com`, properties: {} }));
    const results = await createWithNarrowing(inputs, send);
    expect(results).toMatchObject([
      { leadId: "a", ok: true, externalId: "c-a" },
      { leadId: "b", ok: true, externalId: "c-b" },
      { leadId: "taken", ok: false, existingId: "42" },
      { leadId: "d", ok: true, externalId: "c-d" },
    ]);
    expect(sent.length).toBeLessThanOrEqual(5);
  });
});

describe("HubSpotProvider.updateContacts", () => {
  it("writes exactly the given properties by id; an unknown id or a taken email fails alone", async () => {
    const { portal, provider } = await portalWithProperty();
    const [a, b, c] = await seedContacts(sandbox, portal.portalId, 3);
    const results = await provider.updateContacts([
      { leadId: "la", externalId: a as string, properties: { jobtitle: "CTO" } },
      { leadId: "gone", externalId: "999999999", properties: { jobtitle: "x" } },
      { leadId: "lb", externalId: b as string, properties: { email: "seed2@example.com" } }, // c's email
      { leadId: "lc", externalId: c as string, properties: { phone: "+1 555 0199" } },
    ]);
    expect(results).toMatchObject([
      { leadId: "la", ok: true, created: false, externalId: a },
      { leadId: "gone", ok: false, retryable: false },
      { leadId: "lb", ok: false, retryable: false },
      { leadId: "lc", ok: true, externalId: c },
    ]);
    const client = createHubSpotClient({ basePath: sandbox.url, accessToken: portal.accessToken });
    const after = await client.crm.contacts.basicApi.getById(a as string, ["firstname", "jobtitle"]);
    expect(after.properties).toMatchObject({ firstname: "Seed0", jobtitle: "CTO" });
    expect(await calls(portal.portalId, "update")).toBeGreaterThanOrEqual(2);
  });
});
