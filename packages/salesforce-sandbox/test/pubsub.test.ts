import * as grpc from "@grpc/grpc-js";
import { loadPubSubPackage, PubSubClient, PubSubError, type ChangeEventMessage, type FetchRequestMessage, type FetchResponseMessage, type SubscribeOptions } from "@leadsync/salesforce/pubsub";
import { afterEach, describe, expect, it } from "vitest";
import type { AccountInfo, SalesforceSandbox, SalesforceSandboxOptions } from "../src/index.js";
import { startSalesforceSandbox } from "../src/index.js";
import { admin, connection, lead, waitFor } from "./helpers.js";

const TOPIC = "/data/LeadChangeEvent";

let sandbox: SalesforceSandbox | undefined;
let client: PubSubClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: SalesforceSandboxOptions = {}): Promise<{ sandbox: SalesforceSandbox; account: AccountInfo; client: PubSubClient }> {
  sandbox = await startSalesforceSandbox(options);
  client = new PubSubClient({ address: sandbox.grpcUrl as string, tls: sandbox.tls ? { rootCertPem: sandbox.tls.caPem } : false });
  return { sandbox, account: sandbox.createAccount(), client };
}

function session(account: AccountInfo): Pick<SubscribeOptions, "accessToken" | "instanceUrl" | "tenantId"> {
  return { accessToken: account.connect.accessToken, instanceUrl: account.connect.instanceUrl, tenantId: account.connect.orgId };
}

/** Collects `count` events from a subscription, then stops it. */
async function take(iterator: AsyncGenerator<ChangeEventMessage>, count: number): Promise<ChangeEventMessage[]> {
  const events: ChangeEventMessage[] = [];
  if (count === 0) return events;
  for await (const event of iterator) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

/** Waits until the server holds the subscription (the first FetchRequest was processed). */
async function subscribed(s: SalesforceSandbox, n = 1): Promise<void> {
  for (let i = 0; i < 100 && s.state.subscriptions.size < n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(s.state.subscriptions.size).toBeGreaterThanOrEqual(n);
}

describe("Pub/Sub API: Change Data Capture for Lead", () => {
  it("LATEST: a UI edit and an API write with call options arrive as two events with the right origin, user and bitmaps", async () => {
    const { sandbox: s, account, client: c } = await start();
    const seeded = await admin<{ ids: [string] }>(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1, { Phone: "+1 555 0100", Title: "Countess" })] });
    const id = seeded.body.ids[0];

    const received = take(c.subscribe({ ...session(account), topic: TOPIC }), 2);
    await subscribed(s);
    // a person edits in the UI
    expect((await admin(s, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { Title: "Mathematician", FirstName: "Augusta" })).status).toBe(204);
    // LeadSync writes through jsforce with Sforce-Call-Options: client=leadsync, clearing the phone
    await connection(s, account).sobject("Lead").update({ Id: id, Phone: null, Email: "augusta@example.com" });
    const [ui, api] = await received;

    const org = s.state.orgs.get(account.accountId);
    expect(ui).toMatchObject({ changeType: "UPDATE", entityName: "Lead", recordIds: [id], changeOrigin: "", commitUser: org?.uiUserId });
    expect(ui?.changedFields.sort()).toEqual(["FirstName", "LastModifiedDate", "Title"]);
    expect(ui?.fields).toMatchObject({ Title: "Mathematician", FirstName: "Augusta", Email: null, Company: null });

    expect(api).toMatchObject({ changeType: "UPDATE", recordIds: [id], changeOrigin: "com/salesforce/api/rest/59.0;client=leadsync", commitUser: org?.apiUserId });
    expect(api?.changedFields.sort()).toEqual(["Email", "LastModifiedById", "LastModifiedDate", "Phone"]);
    expect(api?.nulledFields).toEqual(["Phone"]);
    expect(api?.fields["Email"]).toBe("augusta@example.com");
    expect(api?.fields["LastModifiedDate"]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(Buffer.compare(api?.replayId as Buffer, ui?.replayId as Buffer)).toBe(1);
  });

  it("puts the wire bitmaps in Salesforce's format: top-level hex, compound Name as `n-0x…`", async () => {
    const { sandbox: s, account, client: c } = await start();
    const [id] = (await admin<{ ids: [string] }>(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1)] })).body.ids;
    const received = take(c.subscribe({ ...session(account), topic: TOPIC }), 1);
    await subscribed(s);
    await admin(s, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { FirstName: null, Title: "T" });
    const [event] = await received;
    expect(event?.nulledFields).toEqual(["FirstName"]);
    expect(event?.changedFields.sort()).toEqual(["FirstName", "LastModifiedDate", "Title"]);

    // the raw header, as Salesforce puts it on the wire
    const schema = await c.getSchema(session(account), event?.schemaId as string);
    const payload = s.state.schemaById(event?.schemaId as string);
    expect(payload).toBeDefined();
    const log = await admin<{ events: Array<{ changedFields: string[] }> }>(s, "GET", `/__sandbox/accounts/${account.accountId}/events`);
    expect(log.body.events.at(-1)?.changedFields.sort()).toEqual(["FirstName", "LastModifiedDate", "Title"]);
    const fieldNames = schema.type.fields.map((f) => f.name);
    const nameIndex = fieldNames.indexOf("Name");
    const titleBit = 1n << BigInt(fieldNames.indexOf("Title"));
    const modifiedBit = 1n << BigInt(fieldNames.indexOf("LastModifiedDate"));
    const { encodeFieldBitmaps } = await import("../src/cdc/avro-schema.js");
    const wire = encodeFieldBitmaps(payload as NonNullable<typeof payload>, ["Title", "LastModifiedDate", "FirstName"]);
    expect(wire).toEqual([`0x${(titleBit | modifiedBit).toString(16).toUpperCase()}`, `${nameIndex}-0x2`]);
  });

  it("CREATE from the API carries every set field; collections writes carry the client id unless the account says not", async () => {
    const { sandbox: s, account, client: c } = await start();
    const received = take(c.subscribe({ ...session(account), topic: "/data/ChangeEvents" }), 2);
    await subscribed(s);
    const conn = connection(s, account);
    await conn.sobject("Lead").create([lead(1)]);
    await admin(s, "PATCH", `/__sandbox/accounts/${account.accountId}`, { collectionsCallOptions: false });
    await conn.sobject("Lead").create([lead(2)]);
    const [first, second] = await received;
    expect(first).toMatchObject({ changeType: "CREATE", changeOrigin: "com/salesforce/api/rest/59.0;client=leadsync", changedFields: [] });
    expect(first?.fields).toMatchObject({ FirstName: "Ada1", LastName: "Lovelace1", Company: "Analytical Engines", Email: "ada1@example.com", Status: "Open - Not Contacted", Phone: null });
    expect(second?.changeOrigin).toBe("com/salesforce/api/rest/59.0");
  });

  it("resumes from a stored replay id with exactly the missed events", async () => {
    const { sandbox: s, account, client: c } = await start();
    const [id] = (await admin<{ ids: [string] }>(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1)] })).body.ids;
    const first = take(c.subscribe({ ...session(account), topic: TOPIC }), 1);
    await subscribed(s);
    await admin(s, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { Title: "one" });
    const [stored] = await first;
    // disconnected: three more changes happen
    await admin(s, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { Title: "two" });
    await admin(s, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { Title: "three" });
    await admin(s, "DELETE", `/__sandbox/accounts/${account.accountId}/records/${id}`);
    const resumed = await take(c.subscribe({ ...session(account), topic: TOPIC, replay: { preset: "CUSTOM", replayId: stored?.replayId as Buffer } }), 3);
    expect(resumed.map((e) => [e.changeType, e.fields["Title"]])).toEqual([
      ["UPDATE", "two"],
      ["UPDATE", "three"],
      ["DELETE", null],
    ]);
    // EARLIEST replays everything retained: the CREATE and the four changes
    const all = await take(c.subscribe({ ...session(account), topic: TOPIC, replay: { preset: "EARLIEST" } }), 5);
    expect(all.map((e) => e.changeType)).toEqual(["CREATE", "UPDATE", "UPDATE", "UPDATE", "DELETE"]);
  });

  it("flow control: num_requested 1 gets one event until refilled, then keepalives carry latest_replay_id", async () => {
    const { sandbox: s, account } = await start({ keepaliveMs: 300 });
    const { PubSub } = loadPubSubPackage();
    const raw = new PubSub(s.grpcUrl as string, grpc.credentials.createInsecure()) as unknown as { Subscribe(m: grpc.Metadata): grpc.ClientDuplexStream<FetchRequestMessage, FetchResponseMessage>; close(): void };
    const metadata = new grpc.Metadata();
    metadata.set("accesstoken", account.connect.accessToken);
    metadata.set("instanceurl", account.connect.instanceUrl);
    metadata.set("tenantid", account.connect.orgId);
    const call = raw.Subscribe(metadata);
    const responses: FetchResponseMessage[] = [];
    call.on("data", (r: FetchResponseMessage) => responses.push(r));
    call.on("error", () => undefined);
    call.write({ topic_name: TOPIC, replay_preset: "LATEST", num_requested: 1 });
    await subscribed(s);
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1), lead(2), lead(3)] });
    const withEvents = () => responses.filter((r) => r.events.length > 0);
    await waitFor(() => withEvents().length > 0);
    // nothing more comes without credit
    await new Promise((r) => setTimeout(r, 150));
    expect(withEvents().flatMap((r) => r.events)).toHaveLength(1);
    expect(withEvents()[0]?.pending_num_requested).toBe(0);
    const stats = await admin<{ notifications: { delivered: number; pending: number } }>(s, "GET", `/__sandbox/accounts/${account.accountId}/stats`);
    expect(stats.body.notifications).toMatchObject({ delivered: 1, pending: 2 });

    call.write({ num_requested: 5 });
    await waitFor(() => withEvents().flatMap((r) => r.events).length >= 3);
    expect(withEvents().flatMap((r) => r.events)).toHaveLength(3);
    const last = withEvents().at(-1) as FetchResponseMessage;
    // silence: an empty batch with the latest replay id
    const seen = responses.length;
    await waitFor(() => responses.length > seen);
    const keepalive = responses.at(-1) as FetchResponseMessage;
    expect(keepalive.events).toHaveLength(0);
    expect(Buffer.compare(keepalive.latest_replay_id, last.latest_replay_id)).toBe(0);
    call.cancel();
    raw.close();
  });

  it("the client's window refills only as events are handed on", async () => {
    const { sandbox: s, account, client: c } = await start();
    const iterator = c.subscribe({ ...session(account), topic: TOPIC, window: 1 });
    const firstPromise = iterator.next();
    await subscribed(s);
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1), lead(2)] });
    const first = await firstPromise;
    expect(first.value?.changeType).toBe("CREATE");
    await new Promise((r) => setTimeout(r, 100));
    let stats = await admin<{ notifications: { delivered: number; pending: number } }>(s, "GET", `/__sandbox/accounts/${account.accountId}/stats`);
    expect(stats.body.notifications).toMatchObject({ delivered: 1, pending: 1 });
    const second = await iterator.next();
    expect(second.value?.fields["Email"]).toBe("ada2@example.com");
    stats = await admin(s, "GET", `/__sandbox/accounts/${account.accountId}/stats`);
    expect(stats.body.notifications.delivered).toBe(2);
    await iterator.return(undefined);
  });

  it("a replay id older than the retention window → INVALID_ARGUMENT with Salesforce's replayid error code", async () => {
    const { sandbox: s, account, client: c } = await start();
    const received = take(c.subscribe({ ...session(account), topic: TOPIC }), 1);
    await subscribed(s);
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1)] });
    const [event] = await received;
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/events/age`, { hours: 73 });
    const error = await take(c.subscribe({ ...session(account), topic: TOPIC, replay: { preset: "CUSTOM", replayId: event?.replayId as Buffer } }), 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PubSubError);
    expect((error as PubSubError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((error as PubSubError).errorCode).toBe("sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted");
    expect((error as PubSubError).isReplayIdInvalid).toBe(true);
    expect((error as PubSubError).message).toMatch(/Replay ID validation failed.*rpcId: /);
  });

  it("a bad token → UNAUTHENTICATED for Subscribe, GetSchema and GetTopic", async () => {
    const { account, client: c } = await start();
    const bad = { ...session(account), accessToken: "00D000000000000!bogus" };
    const subscribeError = (await take(c.subscribe({ ...bad, topic: TOPIC }), 1).catch((e: unknown) => e)) as PubSubError;
    expect(subscribeError.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(subscribeError.errorCode).toBe("sfdc.platform.eventbus.grpc.service.auth.error");
    expect(subscribeError.isAuthError).toBe(true);
    const topicError = (await c.getTopic(bad, TOPIC).catch((e: unknown) => e)) as PubSubError;
    expect(topicError.code).toBe(grpc.status.UNAUTHENTICATED);
    const wrongTenant = (await c.getTopic({ ...session(account), tenantId: "00D000000000001AAA" }, TOPIC).catch((e: unknown) => e)) as PubSubError;
    expect(wrongTenant.code).toBe(grpc.status.UNAUTHENTICATED);
    const topic = await c.getTopic(session(account), TOPIC);
    expect(topic).toMatchObject({ topic_name: TOPIC, tenant_guid: account.accountId, can_subscribe: true, schema_id: expect.stringMatching(/^[\w-]{22}$/) });
  });

  it("faults: dropped events never arrive, gap and overflow events carry no field data", async () => {
    const { sandbox: s, account, client: c } = await start();
    const received = take(c.subscribe({ ...session(account), topic: TOPIC }), 3);
    await subscribed(s);
    await admin(s, "POST", "/__sandbox/faults", { kind: "drop_notifications", count: 1 });
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1)] });
    await admin(s, "POST", "/__sandbox/faults", { kind: "gap_events", count: 1 });
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(2)] });
    await admin(s, "POST", "/__sandbox/faults", { kind: "overflow_events", count: 1 });
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(3)] });
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(4)] });
    const events = await received;
    expect(events.map((e) => e.changeType)).toEqual(["GAP_CREATE", "GAP_OVERFLOW", "CREATE"]);
    expect(events[0]?.recordIds).toHaveLength(1);
    expect(events[0]?.fields["Email"]).toBeNull();
    expect(events[2]?.fields["Email"]).toBe("ada4@example.com");
    const stats = await admin<{ notifications: { failed: number } }>(s, "GET", `/__sandbox/accounts/${account.accountId}/stats`);
    expect(stats.body.notifications.failed).toBe(1);
  });

  it("with grpcTls the server insists on TLS; the client trusts the generated CA", async () => {
    const { sandbox: s, account, client: c } = await start({ grpcTls: true });
    expect(s.tls?.caPem).toMatch(/BEGIN CERTIFICATE/);
    expect(s.pubsubUrl).toBe(`grpcs://${s.grpcUrl}`);
    const app = await admin<{ pubsub: { url: string; caPem: string } }>(s, "GET", "/__sandbox/app");
    expect(app.body.pubsub).toEqual({ url: s.pubsubUrl, caPem: s.tls?.caPem });
    expect(await c.getTopic(session(account), TOPIC)).toMatchObject({ topic_name: TOPIC });
    const plaintext = new PubSubClient({ address: s.grpcUrl as string, tls: false });
    const error = (await plaintext.getTopic(session(account), TOPIC).catch((e: unknown) => e)) as PubSubError;
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    plaintext.close();
  });

  it("a custom field changes the schema id; old events still decode with their own schema", async () => {
    const { sandbox: s, account, client: c } = await start();
    const conn = connection(s, account);
    await conn.sobject("Lead").create(lead(1));
    await conn.tooling.sobject("CustomField").create({ FullName: "Lead.Lead_Source_System__c", Metadata: { label: "Lead Source System", type: "Text", length: 64 } });
    await conn.sobject("Lead").create(lead(2, { Lead_Source_System__c: "leadsync" }));
    const [before, after] = await take(c.subscribe({ ...session(account), topic: TOPIC, replay: { preset: "EARLIEST" } }), 2);
    expect(before?.schemaId).not.toBe(after?.schemaId);
    expect("Lead_Source_System__c" in (before?.fields ?? {})).toBe(false);
    expect(after?.fields["Lead_Source_System__c"]).toBe("leadsync");
  });

  it("the org's delivery allocation ends the stream with RESOURCE_EXHAUSTED once used up", async () => {
    const { sandbox: s, account, client: c } = await start({ dailyDeliveredEvents: 2 });
    const seen: ChangeEventMessage[] = [];
    const run = (async () => {
      for await (const event of c.subscribe({ ...session(account), topic: TOPIC })) seen.push(event);
    })().catch((e: unknown) => e);
    await subscribed(s);
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1), lead(2), lead(3)] });
    const error = (await run) as PubSubError;
    expect(seen).toHaveLength(2);
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error.errorCode).toBe("sfdc.platform.eventbus.grpc.subscription.limit.exceeded");
    const limits = await connection(s, account).limits();
    expect((limits as unknown as { DailyDeliveredPlatformEvents: unknown }).DailyDeliveredPlatformEvents).toEqual({ Max: 2, Remaining: 0 });
  });

  it("re-checks the session on every FetchRequest: an expired token ends the stream UNAUTHENTICATED", async () => {
    const { sandbox: s, account, client: c } = await start();
    const iterator = c.subscribe({ ...session(account), topic: TOPIC, window: 1 });
    const first = iterator.next();
    await subscribed(s);
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1)] });
    expect((await first).value?.changeType).toBe("CREATE");
    await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/expire-access-token`);
    // taking the next event sends the refill FetchRequest, which the server refuses
    const error = (await iterator.next().catch((e: unknown) => e)) as PubSubError;
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
  });
});
