import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHubSpotClient, toHubSpotError } from "../../packages/hubspot/src/index.js";

/** A HubSpot that accepts the request and never answers: without a client timeout the call would hang forever. */
describe("HubSpot calls time out", () => {
  let server: Server;
  let basePath: string;
  beforeAll(async () => {
    server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    basePath = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("fails a call that gets no response within the timeout, as a retryable error", async () => {
    const client = createHubSpotClient({ accessToken: "pat-test", basePath, timeoutMs: 300 });
    const outcome = await client.crm.contacts.batchApi
      .read({ inputs: [{ id: "1" }], properties: ["email"], propertiesWithHistory: [] }, false)
      .then(
        () => "answered",
        (err: unknown) => err,
      );
    expect(outcome).toBeInstanceOf(Error);
    const mapped = toHubSpotError(outcome, "contacts batch read");
    expect(mapped.retryable).toBe(true);
    expect(mapped.message).toMatch(/did not answer within 300 ms/);
  }, 5_000);
});
