import { Client } from "@hubspot/api-client";
import type { Sandbox } from "@leadsync/hubspot-sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHubSpotClient } from "../src/sdk-client.js";
import { injectFault, sandboxStats, startTestSandbox } from "./sandbox-helpers.js";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(() => sandbox.close());

/** Makes the SDK's process-wide decorator singleton hold a 3-attempt retry, as another client would. */
const constructRetryingClient = () => new Client({ basePath: sandbox.url, numberOfApiCallRetries: 3 });

describe("createHubSpotClient", () => {
  it("makes one request on a 503 even when another client configured SDK retries afterwards", async () => {
    const portal = sandbox.createPortal({ tier: "unlimited" });
    const ours = createHubSpotClient({ basePath: `${sandbox.url}/`, accessToken: portal.accessToken });
    constructRetryingClient();
    await injectFault(sandbox, { portalId: portal.portalId, kind: "error", status: 503, count: 3 });
    await expect(ours.crm.contacts.batchApi.read({ inputs: [{ id: "1" }], properties: [], propertiesWithHistory: [] })).rejects.toMatchObject({
      code: 503,
    });
    expect((await sandboxStats(sandbox, portal.portalId)).calls.total).toBe(1);
  });

  it("keeps apiRequest undecorated too", async () => {
    const portal = sandbox.createPortal({ tier: "unlimited" });
    const ours = createHubSpotClient({ basePath: sandbox.url, accessToken: portal.accessToken });
    constructRetryingClient();
    await injectFault(sandbox, { portalId: portal.portalId, kind: "error", status: 503, count: 3 });
    const response = await ours.apiRequest({ method: "GET", path: "/account-info/v3/details" });
    expect(response.status).toBe(503);
    expect((await sandboxStats(sandbox, portal.portalId)).calls.total).toBe(1);
  });

  it("(control) a plain SDK client does pick up the other client's retries", async () => {
    const portal = sandbox.createPortal({ tier: "unlimited" });
    const plain = new Client({ basePath: sandbox.url, accessToken: portal.accessToken, numberOfApiCallRetries: 0 });
    constructRetryingClient();
    await injectFault(sandbox, { portalId: portal.portalId, kind: "error", status: 503, count: 3 });
    await expect(plain.crm.contacts.batchApi.read({ inputs: [{ id: "1" }], properties: [], propertiesWithHistory: [] })).rejects.toBeDefined();
    expect((await sandboxStats(sandbox, portal.portalId)).calls.total).toBe(3);
  }, 10_000);
});
