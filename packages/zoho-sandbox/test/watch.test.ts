import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../src/index.js";
import { admin, lead, sandboxWithAccount, startReceiver, waitFor } from "./helpers.js";

let sandbox: Sandbox | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
afterEach(async () => {
  await sandbox?.close();
  await receiver?.close();
  sandbox = undefined;
  receiver = undefined;
});

const inAWeek = () => new Date(Date.now() + 7 * 24 * 3600 * 1000 - 60_000).toISOString();

async function withChannel(respond?: Parameters<typeof startReceiver>[0], channel: Record<string, unknown> = {}) {
  const s = await sandboxWithAccount();
  sandbox = s.sandbox;
  receiver = await startReceiver(respond);
  const subscribed = await s.api("POST", "/crm/v8/actions/watch", {
    watch: [{ channel_id: "1000000068001", events: ["Leads.create", "Leads.edit", "Leads.delete"], notify_url: `${receiver.url}?integration=int-1`, token: "secret-token", channel_expiry: inAWeek(), notify_on_related_action: false, ...channel }],
  });
  return { ...s, subscribed, receiver };
}

describe("actions/watch", () => {
  it("subscribes and calls back per write with ids, operation, token, channel_id and query_params (no actor)", async () => {
    const { api, account, subscribed, receiver } = await withChannel();
    expect(subscribed.status).toBe(201);
    expect(subscribed.body.watch[0]).toMatchObject({ code: "SUCCESS", status: "success", details: { events: [expect.objectContaining({ channel_id: "1000000068001", resource_name: "Leads" })] } });

    const created = await api("POST", "/crm/v8/Leads", { data: [lead(1), lead(2)] });
    const ids = created.body.data.map((r: { details: { id: string } }) => r.details.id);
    await waitFor(() => receiver.received.length === 1);
    const body = receiver.received[0]?.body;
    expect(body).toMatchObject({ module: "Leads", operation: "insert", ids, channel_id: "1000000068001", token: "secret-token", query_params: { integration: "int-1" }, affected_fields: [] });
    expect(typeof body.server_time).toBe("number");
    expect(body.resource_uri).toBe(`${(sandbox as Sandbox).apiDomain}/crm/v8/Leads`);
    expect(Object.keys(body).sort()).toEqual(["affected_fields", "channel_id", "ids", "module", "operation", "query_params", "resource_uri", "server_time", "token"]);

    await admin(sandbox as Sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${ids[0]}`, { Phone: "123" });
    await waitFor(() => receiver.received.length === 2);
    expect(receiver.received[1]?.body).toMatchObject({ operation: "update", ids: [ids[0]], affected_fields: [{ [ids[0]]: ["Phone"] }] });
    await api("DELETE", `/crm/v8/Leads/${ids[1]}`);
    await waitFor(() => receiver.received.length === 3);
    expect(receiver.received[2]?.body).toMatchObject({ operation: "delete", ids: [ids[1]] });

    const stats = await admin(sandbox as Sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`);
    expect(stats.body.notifications).toMatchObject({ delivered: 4, failed: 0, pending: 0 });
    const listed = await api("GET", "/crm/v8/actions/watch");
    expect(listed.body.watch[0]).toMatchObject({ channel_id: "1000000068001", notify_on_related_action: false, events: ["Leads.create", "Leads.edit", "Leads.delete"] });
  });

  it("batches a 150-record burst into callbacks of at most 100 ids", async () => {
    const { api, receiver } = await withChannel();
    await api("POST", "/crm/v8/Leads", { data: Array.from({ length: 100 }, (_, i) => lead(i)) });
    await api("POST", "/crm/v8/Leads", { data: Array.from({ length: 50 }, (_, i) => lead(1000 + i)) });
    await (sandbox as Sandbox).notificationsIdle();
    expect(receiver.received.map((r) => r.body.ids.length)).toEqual([100, 50]);
  });

  it("validates token length, events and expiry; the default life is 1 h and the maximum 1 week", async () => {
    const { api } = await withChannel(undefined, { channel_expiry: undefined });
    const listed = await api("GET", "/crm/v8/actions/watch");
    const life = Date.parse(listed.body.watch[0].channel_expiry) - Date.now();
    expect(life).toBeGreaterThan(3590_000);
    expect(life).toBeLessThanOrEqual(3600_000);
    const long = await api("POST", "/crm/v8/actions/watch", { watch: [{ channel_id: "2", events: ["Leads.all"], notify_url: "http://127.0.0.1:9/x", token: "t".repeat(51) }] });
    expect(long.status).toBe(400);
    expect(long.body.watch[0]).toMatchObject({ code: "INVALID_DATA", details: { api_name: "token", maximum_length: 50 } });
    const badEvent = await api("POST", "/crm/v8/actions/watch", { watch: [{ channel_id: "2", events: ["Contacts.create"], notify_url: "http://127.0.0.1:9/x" }] });
    expect(badEvent.body.watch[0].code).toBe("INVALID_DATA");
    const farFuture = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
    await api("POST", "/crm/v8/actions/watch", { watch: [{ channel_id: "3", events: ["Leads.all"], notify_url: "http://127.0.0.1:9/x", channel_expiry: farFuture }] });
    const capped = (await api("GET", "/crm/v8/actions/watch?channel_id=3")).body.watch[0];
    expect(Date.parse(capped.channel_expiry) - Date.now()).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
  });

  it("renews a live channel with PATCH; an expired one stops notifying, is collected and answers NOT_SUBSCRIBED", async () => {
    const { api, account, receiver } = await withChannel();
    const renewed = await api("PATCH", "/crm/v8/actions/watch", { watch: [{ channel_id: "1000000068001", channel_expiry: inAWeek() }] });
    expect(renewed.status).toBe(200);
    expect(renewed.body.watch[0].code).toBe("SUCCESS");

    expect((await admin(sandbox as Sandbox, "POST", `/__sandbox/accounts/${account.accountId}/channels/1000000068001/expire`)).status).toBe(204);
    await api("POST", "/crm/v8/Leads", { data: [lead(1)] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.received).toHaveLength(0);
    const gone = await api("PATCH", "/crm/v8/actions/watch", { watch: [{ channel_id: "1000000068001", channel_expiry: inAWeek() }] });
    expect(gone.status).toBe(400);
    expect(gone.body.watch[0]).toMatchObject({ code: "NOT_SUBSCRIBED", status: "error" });
    expect((await api("GET", "/crm/v8/actions/watch")).status).toBe(204);
    expect((await api("DELETE", "/crm/v8/actions/watch?channel_ids=1000000068001")).body.watch[0].code).toBe("NOT_SUBSCRIBED");
  });

  it("removes events with PATCH _delete_events and replaces a channel with PUT", async () => {
    const { api } = await withChannel();
    const patched = await api("PATCH", "/crm/v8/actions/watch", { watch: [{ channel_id: "1000000068001", events: ["Leads.delete"], _delete_events: true }] });
    expect(patched.body.watch[0].code).toBe("SUCCESS");
    expect((await api("GET", "/crm/v8/actions/watch")).body.watch[0].events).toEqual(["Leads.create", "Leads.edit"]);
    const replaced = await api("PUT", "/crm/v8/actions/watch", { watch: [{ channel_id: "1000000068001", events: ["Leads.all"], notify_url: "http://127.0.0.1:9/other" }] });
    expect(replaced.body.watch[0].code).toBe("SUCCESS");
    const channel = (await api("GET", "/crm/v8/actions/watch")).body.watch[0];
    expect(channel).toMatchObject({ events: ["Leads.all"], notify_url: "http://127.0.0.1:9/other", notify_on_related_action: true });
    expect((await api("PUT", "/crm/v8/actions/watch", { watch: [{ channel_id: "555", events: ["Leads.all"], notify_url: "http://127.0.0.1:9/x" }] })).body.watch[0].code).toBe("NOT_SUBSCRIBED");
  });

  it("expires a channel by its channel_expiry and garbage-collects it", async () => {
    const s = await sandboxWithAccount({ channelGcIntervalMs: 20 });
    sandbox = s.sandbox;
    await s.api("POST", "/crm/v8/actions/watch", { watch: [{ channel_id: "7", events: ["Leads.all"], notify_url: "http://127.0.0.1:9/x", channel_expiry: new Date(Date.now() + 1200).toISOString() }] });
    expect((await s.api("GET", "/crm/v8/actions/watch")).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect((await s.api("PATCH", "/crm/v8/actions/watch", { watch: [{ channel_id: "7", channel_expiry: inAWeek() }] })).body.watch[0].code).toBe("NOT_SUBSCRIBED");
  });

  it("retries a failed callback, then gives up; dropped notifications are counted", async () => {
    const { api, account, receiver } = await withChannel((_request, index) => (index === 0 ? 500 : 200));
    await api("POST", "/crm/v8/Leads", { data: [lead(1)] });
    await (sandbox as Sandbox).notificationsIdle();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]?.body.ids).toEqual(receiver.received[0]?.body.ids);

    await admin(sandbox as Sandbox, "POST", "/__sandbox/faults", { accountId: account.accountId, kind: "fail_notifications", count: 3 });
    await api("POST", "/crm/v8/Leads", { data: [lead(2)] });
    await (sandbox as Sandbox).notificationsIdle();
    await admin(sandbox as Sandbox, "POST", "/__sandbox/faults", { kind: "drop_notifications", count: 1 });
    await api("POST", "/crm/v8/Leads", { data: [lead(3)] });
    await (sandbox as Sandbox).notificationsIdle();
    const stats = await admin(sandbox as Sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`);
    expect(stats.body.notifications).toEqual({ delivered: 1, failed: 1, pending: 0, dropped: 1 });
    expect(receiver.received).toHaveLength(2);
  });
});
