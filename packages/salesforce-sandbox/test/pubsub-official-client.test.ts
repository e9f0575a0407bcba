import PubSubApiClient from "salesforce-pubsub-api-client";
import { afterEach, describe, expect, it } from "vitest";
import { startSalesforceSandbox, type SalesforceSandbox } from "../src/index.js";
import { admin, lead } from "./helpers.js";

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let sandbox: SalesforceSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/**
 * Wire compatibility with an independent implementation: pozil's `salesforce-pubsub-api-client` (its own copy of
 * Salesforce's proto, TLS always on, avro-js, its own bitmap parser) subscribes to the sandbox unchanged.
 */
describe("salesforce-pubsub-api-client against the sandbox", () => {
  it("receives and decodes the sandbox's change events, bitmaps included", async () => {
    sandbox = await startSalesforceSandbox({ grpcTls: true });
    const account = sandbox.createAccount();
    const [id] = (await admin<{ ids: [string] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1, { Phone: "+1 555" })] })).body.ids;

    const client = new PubSubApiClient(
      {
        authType: "user-supplied",
        accessToken: account.connect.accessToken,
        // the client accepts only https instance URLs; the sandbox's gRPC side accepts either scheme
        instanceUrl: account.connect.instanceUrl.replace(/^http:/, "https:"),
        organizationId: account.connect.orgId,
        pubSubEndpoint: sandbox.grpcUrl as string,
        // the client pins Salesforce's CA bundle; the sandbox's certificate chains to its own generated CA
        rejectUnauthorizedSsl: false,
      },
      quiet as never,
    );
    await client.connect();
    const events: Array<{ replayId: number; payload: { ChangeEventHeader: Record<string, unknown>; [field: string]: unknown } }> = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        "/data/LeadChangeEvent",
        (_info: unknown, type: string, data: unknown) => {
          if (type === "event") events.push(data as (typeof events)[number]);
          if (type === "error") reject(data as Error);
          if (type === "lastEvent") resolve();
        },
        1,
      );
    });
    for (let i = 0; i < 100 && sandbox.state.subscriptions.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { FirstName: "Augusta", Phone: null });
    await done;
    // its close() drops its stream listeners before cancelling, so the cancellation would surface as an unhandled
    // error: end the stream from the server side first
    await sandbox.close();
    sandbox = undefined;
    client.close();

    const [event] = events;
    const header = event?.payload.ChangeEventHeader;
    expect(header).toMatchObject({ entityName: "Lead", changeType: "UPDATE", recordIds: [id], changeOrigin: "" });
    expect((header?.["changedFields"] as string[]).sort()).toEqual(["LastModifiedDate", "Name.FirstName", "Phone"]);
    expect(header?.["nulledFields"]).toEqual(["Phone"]);
    // its flattening unwraps the compound Name to FirstName's value
    expect(event?.payload["Name"]).toMatchObject({ FirstName: "Augusta" });
    expect(typeof event?.replayId).toBe("number");
  });
});
