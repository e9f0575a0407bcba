import { afterEach, describe, expect, it } from "vitest";
import { MAX_WEBHOOKS_PER_USER, type SandboxOptions } from "../src/index.js";
import { admin, raw, sandboxWithAccount, sdkError, startReceiver, waitFor, type ReceivedRequest } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const USER = "lsync-int-1";
const PASSWORD = "s3cret-derived";

async function setup(respond?: Parameters<typeof startReceiver>[0], options: SandboxOptions = {}) {
  const receiver = await startReceiver(respond);
  const ctx = await sandboxWithAccount({ webhookRetryDelaysMs: [30, 60, 90], ...options });
  cleanups.push(() => receiver.close(), () => ctx.sandbox.close());
  const field = await ctx.api.personFields.addPersonField({ CreateFieldRequest: { name: "Lead Source System", field_type: "varchar" } });
  for (const action of ["create", "change", "delete"] as const) {
    await ctx.api.webhooks.addWebhook({
      AddWebhookRequest: { subscription_url: receiver.url, event_action: action, event_object: "person", name: `p-${action}`, http_auth_user: USER, http_auth_password: PASSWORD },
    });
  }
  return { ...ctx, receiver, markerKey: field.data?.key as string };
}

type Stats = { notifications: { delivered: number; failed: number; pending: number; dropped: number; lost: number } };
const stats = async (ctx: Awaited<ReturnType<typeof setup>>) => (await admin<Stats>(ctx.sandbox, "GET", `/__sandbox/accounts/${ctx.account.accountId}/stats`)).body.notifications;
const basic = (request: ReceivedRequest) => Buffer.from(String(request.headers.authorization).replace(/^Basic /, ""), "base64").toString("utf8");

describe("webhooks API", () => {
  it("creates v2 webhooks by default, lists and deletes them, and refuses the 41st of a user with 422", async () => {
    const { api, sandbox, account } = await sandboxWithAccount({}, { plan: "ultimate" }).then((ctx) => {
      cleanups.push(() => ctx.sandbox.close());
      return ctx;
    });
    const created = await api.webhooks.addWebhook({ AddWebhookRequest: { subscription_url: "https://hooks.example.com/p", event_action: "change", event_object: "person", name: "one" } });
    expect(created.data).toMatchObject({ version: "2.0", is_active: 1, event_action: "change", event_object: "person", http_auth_user: null });
    for (let i = 1; i < MAX_WEBHOOKS_PER_USER; i++) {
      await api.webhooks.addWebhook({ AddWebhookRequest: { subscription_url: `https://hooks.example.com/${i}`, event_action: "*", event_object: "*", name: `n${i}` } });
    }
    const refused = await sdkError(api.webhooks.addWebhook({ AddWebhookRequest: { subscription_url: "https://hooks.example.com/x", event_action: "*", event_object: "*", name: "x" } }));
    expect(refused).toMatchObject({ success: false, data: null });
    expect(String(refused["error"])).toContain("limit");
    const status = await raw(sandbox, "/v1/webhooks", { method: "POST", token: account.apiToken, body: { subscription_url: "https://hooks.example.com/y", event_action: "*", event_object: "*" } });
    expect(status.status).toBe(422);
    expect((await api.webhooks.getWebhooks()).data).toHaveLength(MAX_WEBHOOKS_PER_USER);
    await api.webhooks.deleteWebhook({ id: created.data?.id as number });
    expect((await api.webhooks.getWebhooks()).data).toHaveLength(MAX_WEBHOOKS_PER_USER - 1);
    expect(await sdkError(api.webhooks.addWebhook({ AddWebhookRequest: { subscription_url: "not a url", event_action: "change", event_object: "person", name: "bad" } }))).toMatchObject({ success: false });
  });
});

describe("webhooks v2 delivery", () => {
  it("sends {meta, data, previous} with HTTP Basic auth; app edits are change_source app by the UI user, API writes api by the token's user", async () => {
    const ctx = await setup();
    const { sandbox, account, api, receiver, markerKey } = ctx;
    const ids = (await admin<{ ids: number[] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "Grace Hopper", emails: [{ value: "grace@example.com" }] }] })).body.ids;
    const id = ids[0] as number;
    await sandbox.webhooksIdle(5000);
    const create = receiver.received[0] as ReceivedRequest;
    expect(basic(create)).toBe(`${USER}:${PASSWORD}`);
    expect(create.body.meta).toMatchObject({
      action: "create",
      entity: "person",
      entity_id: String(id),
      company_id: String(account.accountId),
      change_source: "app",
      user_id: String(account.uiUserId),
      attempt: 1,
      version: "2.0",
      type: "general",
      is_bulk_edit: false,
    });
    expect(create.body.meta["id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(create.body.data).toMatchObject({ id, name: "Grace Hopper", emails: [{ value: "grace@example.com", primary: true }] });
    expect(create.body.previous).toBeNull();

    await api.persons.updatePerson({ id, UpdatePersonRequest: { job_title: "Admiral", custom_fields: { [markerKey]: "jazzaam" } } });
    await sandbox.webhooksIdle(5000);
    const change = receiver.received[1] as ReceivedRequest;
    expect(change.body.meta).toMatchObject({ action: "change", change_source: "api", user_id: String(account.userId) });
    expect(change.body.previous).toEqual({ job_title: null, custom_fields: { [markerKey]: null } });
    expect(change.body.data).toMatchObject({ job_title: "Admiral", custom_fields: { [markerKey]: { type: "varchar", value: "jazzaam" } } });

    // a PATCH that changes nothing raises nothing
    await api.persons.updatePerson({ id, UpdatePersonRequest: { job_title: "Admiral" } });
    await admin(sandbox, "DELETE", `/__sandbox/accounts/${account.accountId}/records/${id}`);
    await sandbox.webhooksIdle(5000);
    expect(receiver.received).toHaveLength(3);
    const deletion = receiver.received[2] as ReceivedRequest;
    expect(deletion.body.meta).toMatchObject({ action: "delete", change_source: "app" });
    expect(deletion.body.data).toBeNull();
    expect(deletion.body.previous).toMatchObject({ id, name: "Grace Hopper", job_title: "Admiral" });
    expect(await stats(ctx)).toMatchObject({ delivered: 3, failed: 0, pending: 0 });
  });

  it("a merge sends a delete with merged_to_id and a change of the survivor with merged_from_id", async () => {
    const ctx = await setup();
    const { sandbox, account, receiver } = ctx;
    const ids = (
      await admin<{ ids: number[] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, {
        records: [{ name: "Keep", emails: [{ value: "keep@example.com" }] }, { name: "Fold", emails: [{ value: "fold@example.com" }], job_title: "Dev" }],
      })
    ).body.ids;
    const [keep, fold] = ids as [number, number];
    await sandbox.webhooksIdle(5000);
    receiver.received.length = 0;
    const merged = await admin<Record<string, unknown>>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records/${fold}/merge`, { into: keep });
    expect(merged.body).toMatchObject({ id: keep, job_title: "Dev" });
    await sandbox.webhooksIdle(5000);
    const deleted = receiver.received.find((r) => r.body.meta["action"] === "delete");
    const changed = receiver.received.find((r) => r.body.meta["action"] === "change");
    expect(deleted?.body.meta).toMatchObject({ entity_id: String(fold), merged_to_id: String(keep) });
    expect(changed?.body.meta).toMatchObject({ entity_id: String(keep), merged_from_id: String(fold) });
    expect(changed?.body.previous).toMatchObject({ emails: [{ value: "keep@example.com", primary: true, label: "work" }], job_title: null });
    expect((await admin<unknown[]>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/records?email=fold@example.com`)).body).toHaveLength(1);
  });

  it("retries a failed delivery with attempt 2, 3, 4 and the same meta.id, then gives up", async () => {
    const ctx = await setup(() => 500);
    const { sandbox, account, receiver } = ctx;
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "Retry" }] });
    await sandbox.webhooksIdle(5000);
    expect(receiver.received.map((r) => r.body.meta["attempt"])).toEqual([1, 2, 3, 4]);
    expect(new Set(receiver.received.map((r) => r.body.meta["id"])).size).toBe(1);
    const gaps = receiver.received.slice(1).map((r, i) => r.at - (receiver.received[i] as ReceivedRequest).at);
    expect(gaps[0]).toBeGreaterThanOrEqual(25);
    expect(gaps[2]).toBeGreaterThanOrEqual(80);
    expect(await stats(ctx)).toMatchObject({ delivered: 0, failed: 1, pending: 0 });
  });

  it("counts a reply slower than the timeout as a failure and retries it", async () => {
    const ctx = await setup((_r, index) => (index === 0 ? { status: 200, delayMs: 300 } : 200), { webhookTimeoutMs: 100 });
    await admin(ctx.sandbox, "POST", `/__sandbox/accounts/${ctx.account.accountId}/records`, { records: [{ name: "Slow" }] });
    await ctx.sandbox.webhooksIdle(5000);
    expect(ctx.receiver.received.map((r) => r.body.meta["attempt"])).toEqual([1, 2]);
    expect(await stats(ctx)).toMatchObject({ delivered: 1, failed: 0 });
  });

  it("bans a webhook after 10 failed first attempts for 30 min; its events are lost meanwhile", async () => {
    const ctx = await setup(() => 503, { webhookRetryDelaysMs: [5_000, 5_000, 5_000] });
    const { sandbox, account, receiver } = ctx;
    const records = Array.from({ length: 10 }, (_, i) => ({ name: `Ban ${i}` }));
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records });
    await waitFor(() => receiver.received.length >= 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "During ban" }] });
    expect((await stats(ctx)).lost).toBeGreaterThanOrEqual(1);
    expect(receiver.received).toHaveLength(10);
    sandbox.advanceClock(30 * 60 * 1000 + 1);
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "After ban" }] });
    await waitFor(() => receiver.received.some((r) => r.body.data?.["name"] === "After ban"));
  });

  it("deletes a webhook that has not delivered for 3 days", async () => {
    const ctx = await setup(() => 500, { webhookRetryDelaysMs: [40, 40, 40] });
    const { sandbox, account, api, receiver } = ctx;
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "Never" }] });
    await waitFor(() => receiver.received.length === 1);
    sandbox.advanceClock(3 * 24 * 60 * 60 * 1000);
    await sandbox.webhooksIdle(5000);
    expect(receiver.received).toHaveLength(2);
    const events = (await api.webhooks.getWebhooks()).data?.map((w) => w.event_action);
    expect(events).toEqual(["change", "delete"]);
  });

  it("drops or fails deliveries on injected webhook faults", async () => {
    const ctx = await setup();
    const { sandbox, account, receiver } = ctx;
    await admin(sandbox, "POST", "/__sandbox/faults", { accountId: account.accountId, kind: "drop_webhooks", count: 1 });
    await admin(sandbox, "POST", "/__sandbox/faults", { accountId: account.accountId, kind: "fail_webhooks", count: 1 });
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "Dropped" }] });
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "Failed once" }] });
    await sandbox.webhooksIdle(5000);
    expect(receiver.received.map((r) => [r.body.data?.["name"], r.body.meta["attempt"]])).toEqual([["Failed once", 2]]);
    expect(await stats(ctx)).toMatchObject({ delivered: 1, dropped: 1 });
  });
});
