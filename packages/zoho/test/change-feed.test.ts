import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebhookRequest } from "@leadsync/core";
import { afterEach, describe, expect, it } from "vitest";
import { channelIdFor, parseZohoChanges, zohoProvider, zohoWebhookVerifier } from "../src/index.js";
import { admin, connectedAccount, type Connected } from "./helpers.js";

const deriveSecret = (integrationId: string) => createHmac("sha256", "server-key").update(integrationId).digest("base64url").slice(0, 40);

interface Captured {
  url: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

async function startReceiver() {
  const received: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ url: req.url ?? "", headers: req.headers, raw: Buffer.concat(chunks) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/webhooks/zoho`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const webhookContext = { env: { marker: "jazzaam", requestTimeoutMs: 1000 }, deriveSecret, publicBaseUrl: "http://x" };

const asRequest = (c: Captured, raw: Buffer = c.raw, url = c.url): WebhookRequest => ({ method: "POST", url, headers: c.headers, rawBody: raw });

let setup: Connected | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
afterEach(async () => {
  await setup?.sandbox.close();
  await receiver?.close();
  setup = undefined;
  receiver = undefined;
});

async function withFeed() {
  setup = await connectedAccount({}, {}, "integration-42");
  receiver = await startReceiver();
  const options = { webhookUrl: receiver.url, webhookSecret: deriveSecret("integration-42") };
  const feed = await zohoProvider.enableChangeFeed(setup.context, options);
  // the lead merges feed.state into the integration's state
  setup.integration.state = { ...setup.integration.state, ...feed.state };
  return { s: setup, receiver, feed, options };
}

describe("Zoho notification channel", () => {
  it("enables one channel per integration (deterministic id, token = the derived secret, a week, renewed at half-life)", async () => {
    const { s, feed, receiver } = await withFeed();
    expect(feed.subscriptions.map((sub) => sub.eventType)).toEqual(["Leads.create", "Leads.edit", "Leads.delete"]);
    expect(feed.subscriptions.every((sub) => sub.id === channelIdFor("integration-42"))).toBe(true);
    expect(channelIdFor("integration-42")).toMatch(/^\d{16,19}$/);
    expect(channelIdFor("integration-42")).not.toBe(channelIdFor("integration-43"));
    const week = 7 * 24 * 3600 * 1000;
    expect(feed.state?.["channelExpiresAt"] as number).toBeGreaterThan(Date.now() + week - 5 * 60_000);
    expect(feed.renewAt as number).toBeLessThan(Date.now() + week / 2 + 1000);
    expect(feed.webhookUrl).toBe(receiver.url);
    const [channel] = (await admin(s.sandbox, "GET", `/__sandbox/accounts/${s.account.accountId}/channels`)).body;
    expect(channel.notifyUrl).toContain("integration=integration-42");
    expect(channel.notifyUrl).toContain(`org=${s.account.accountId}`);
    // enabling again is idempotent
    await zohoProvider.enableChangeFeed(s.context, { webhookUrl: channel.notifyUrl.split("?")[0], webhookSecret: deriveSecret("integration-42") });
    expect((await admin(s.sandbox, "GET", `/__sandbox/accounts/${s.account.accountId}/channels`)).body).toHaveLength(1);
  });

  it("verifies real callbacks in constant time and rejects a wrong token, another channel or no integration", async () => {
    const { s, receiver } = await withFeed();
    const created = await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/records`, { records: [{ Last_Name: "A", Company: "C", Email: "a@example.com" }] });
    await s.sandbox.notificationsIdle();
    const callback = receiver.received[0] as Captured;
    const verified = zohoWebhookVerifier.verify(asRequest(callback), webhookContext);
    expect(verified.ok).toBe(true);

    const body = JSON.parse(callback.raw.toString("utf8"));
    const forgedToken = Buffer.from(JSON.stringify({ ...body, token: "guess" }));
    expect(zohoWebhookVerifier.verify(asRequest(callback, forgedToken), webhookContext)).toMatchObject({ ok: false, status: "auth", reason: "bad_token" });
    const otherChannel = Buffer.from(JSON.stringify({ ...body, channel_id: channelIdFor("integration-43") }));
    expect(zohoWebhookVerifier.verify(asRequest(callback, otherChannel), webhookContext)).toMatchObject({ ok: false, status: "auth", reason: "unknown_channel" });
    // a callback replayed against another integration's URL fails: its token is not that integration's secret
    expect(zohoWebhookVerifier.verify(asRequest(callback, callback.raw, "/api/v1/webhooks/zoho?integration=integration-43"), webhookContext)).toMatchObject({ ok: false, status: "auth" });
    expect(zohoWebhookVerifier.verify(asRequest(callback, callback.raw, "/api/v1/webhooks/zoho"), webhookContext)).toMatchObject({ ok: false, status: "auth" });
    expect(zohoWebhookVerifier.verify(asRequest(callback, Buffer.from("{nope")), webhookContext)).toMatchObject({ ok: false, status: "malformed" });

    if (!verified.ok) throw new Error("unreachable");
    expect(verified).toMatchObject({ types: { "Leads.insert": 1 }, accounts: [s.account.accountId], jobId: expect.stringMatching(/^zo-[0-9a-f]{64}$/) });
    const changes = zohoProvider.parseChanges(verified.events, { env: webhookContext.env });
    expect(changes).toEqual([
      expect.objectContaining({ provider: "zoho", accountId: s.account.accountId, recordId: created.body.ids[0], kind: "create", type: "insert", origin: "unknown", occurredAt: body.server_time }),
    ]);
    expect(changes[0]?.fields).toBeUndefined();
    // the same callback delivered twice has the same identity
    expect(parseZohoChanges(verified.events)[0]?.identity).toBe(changes[0]?.identity);
  });

  it("parses updates and deletes, one change per id; accepts create/edit spellings", () => {
    const base = { server_time: 1_764_000_000_000, query_params: { integration: "i", org: "60000001" }, module: "Leads", resource_uri: "x", channel_id: "1234567890123456", token: "t" };
    const changes = parseZohoChanges([
      { ...base, ids: ["1", "2"], operation: "update", affected_fields: [{ "1": ["Phone"] }, { "2": [] }] },
      { ...base, ids: ["3"], operation: "delete", affected_fields: [] },
      { ...base, ids: ["4"], operation: "edit", affected_fields: [] },
      { ...base, ids: ["5"], operation: "create", affected_fields: [] },
      "garbage",
    ]);
    expect(changes.map((c) => [c.recordId, c.kind])).toEqual([["1", "update"], ["2", "update"], ["3", "delete"], ["4", "update"], ["5", "create"]]);
    expect(new Set(changes.map((c) => c.identity)).size).toBe(5);
  });

  it("renews a live channel; an expired, collected one (NOT_SUBSCRIBED) is re-created and the gap is reported for reconciliation", async () => {
    const { s, receiver, options } = await withFeed();
    const renewed = await (zohoProvider.renewChangeFeed as NonNullable<typeof zohoProvider.renewChangeFeed>)(s.context, options);
    expect(renewed.state?.["channelRecreatedAt"]).toBeUndefined();
    expect(renewed.recreated).toBeUndefined();

    // mid-burst: the channel expires, changes made meanwhile are never notified
    await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/records`, { records: [{ Last_Name: "Before", Company: "C", Email: "before@example.com" }] });
    await s.sandbox.notificationsIdle();
    await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/channels/${channelIdFor("integration-42")}/expire`);
    const missed = await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/records`, { records: [{ Last_Name: "Gap", Company: "C", Email: "gap@example.com" }] });
    await s.sandbox.notificationsIdle();
    expect(receiver.received).toHaveLength(1);

    s.integration.state = { ...s.integration.state, channelExpiresAt: Date.now() - 1 };
    const recreated = await (zohoProvider.renewChangeFeed as NonNullable<typeof zohoProvider.renewChangeFeed>)(s.context, options);
    expect(recreated.recreated).toBe(true);
    expect(recreated.state).toMatchObject({ channelId: channelIdFor("integration-42"), channelRecreatedAt: expect.any(Number), channelGapSince: expect.any(Number) });
    expect((await admin(s.sandbox, "GET", `/__sandbox/accounts/${s.account.accountId}/channels`)).body).toHaveLength(1);

    // the gap, reconciled: a list since channelGapSince finds the missed record
    const client = zohoProvider.createClient(s.context);
    const page = await client.listContactsModifiedSince((recreated.state?.["channelGapSince"] as number) - 1000, undefined, ["Email"]);
    expect(page.contacts.map((c) => c.id)).toContain(missed.body.ids[0]);

    await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/records`, { records: [{ Last_Name: "After", Company: "C", Email: "after@example.com" }] });
    await s.sandbox.notificationsIdle();
    expect(receiver.received).toHaveLength(2);
  });

  it("gives the ledger what it needs to tell our write from a person's edit within the same second", async () => {
    const { s } = await withFeed();
    const client = zohoProvider.createClient(s.context);
    const [ours] = await client.createContacts([{ leadId: "l1", email: "same@example.com", properties: { Last_Name: "Ours", Company: "C" } }]);
    if (!ours?.ok) throw new Error("create failed");
    await admin(s.sandbox, "PATCH", `/__sandbox/accounts/${s.account.accountId}/records/${ours.externalId}`, { Phone: "+1 999" });
    const [record] = await client.fetchContacts([ours.externalId], ["Phone"]);
    expect(ours.properties["Modified_By"]).toBe(s.integration.state["userId"]);
    expect(record?.properties["Modified_By"]).toBe(s.account.person.id);
    expect(record?.properties["Phone"]).toBe("+1 999");
  });
});
