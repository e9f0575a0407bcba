import { afterEach, describe, expect, it } from "vitest";
import { changeDedupeKey, type RecordChange } from "@leadsync/core";
import { pipedriveProvider, webhookAuthUser } from "../src/index.js";
import { admin, connectedSandbox, deriveSecret, MARKER, startVerifyingReceiver } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(respond?: (index: number) => number) {
  const receiver = await startVerifyingReceiver(respond);
  const ctx = await connectedSandbox({ webhookRetryDelaysMs: [20, 40, 60] });
  cleanups.push(() => receiver.close(), () => ctx.sandbox.close());
  const feed = await pipedriveProvider.enableChangeFeed(ctx.context, { webhookUrl: receiver.url, webhookSecret: deriveSecret(ctx.integrationId) });
  // the module's parseChanges knows our user as the webhooks' owner; parsePipedriveChanges also takes the stored id
  const parse = (events: readonly unknown[]) => pipedriveProvider.parseChanges(events as Record<string, unknown>[], { env: ctx.context.env });
  return { ...ctx, receiver, feed, parse };
}

const changesOf = (receiver: Awaited<ReturnType<typeof setup>>["receiver"], parse: (e: readonly unknown[]) => RecordChange[]) => receiver.verified.flatMap((v) => parse(v.events));

describe("enableChangeFeed", () => {
  it("creates webhooks v2 create/change/delete on person with Basic credentials, and reuses them", async () => {
    const { sandbox, account, feed, context, integrationId, receiver } = await setup();
    expect(feed.subscriptions.map((s) => s.eventType)).toEqual(["create.person", "change.person", "delete.person"]);
    expect(feed.webhookUrl).toBe(receiver.url);
    const hooks = (await fetch(`${sandbox.url}/v1/webhooks`, { headers: { "x-api-token": account.apiToken } }).then((r) => r.json())) as { data: Record<string, unknown>[] };
    expect(hooks.data).toHaveLength(3);
    expect(hooks.data[0]).toMatchObject({ version: "2.0", event_object: "person", http_auth_user: webhookAuthUser(integrationId) });
    const again = await pipedriveProvider.enableChangeFeed(context, { webhookUrl: receiver.url, webhookSecret: deriveSecret(integrationId) });
    expect(again.subscriptions.map((s) => s.id)).toEqual(feed.subscriptions.map((s) => s.id));
    // a rotated secret replaces them
    const rotated = await pipedriveProvider.enableChangeFeed(context, { webhookUrl: receiver.url, webhookSecret: "rotated" });
    expect(rotated.subscriptions.map((s) => s.id)).not.toEqual(feed.subscriptions.map((s) => s.id));
    const after = (await fetch(`${sandbox.url}/v1/webhooks`, { headers: { "x-api-token": account.apiToken } }).then((r) => r.json())) as { data: unknown[] };
    expect(after.data).toHaveLength(3);
  });
});

describe("renewChangeFeed", () => {
  it("re-creates a webhook Pipedrive deleted and keeps the others; asks to be run again within a day", async () => {
    const { sandbox, account, feed, context, integrationId, receiver } = await setup();
    const [create, change] = feed.subscriptions;
    const renewContext = { ...context, integration: { ...context.integration, state: { ...context.integration.state, ...feed.state } } };
    const unchanged = await pipedriveProvider.renewChangeFeed?.(renewContext, { webhookUrl: receiver.url, webhookSecret: deriveSecret(integrationId) });
    expect(unchanged?.recreated).toBeUndefined();
    await fetch(`${sandbox.url}/v1/webhooks/${change?.id}`, { method: "DELETE", headers: { "x-api-token": account.apiToken } });
    const renewed = await pipedriveProvider.renewChangeFeed?.(renewContext, { webhookUrl: receiver.url, webhookSecret: deriveSecret(integrationId) });
    expect(renewed?.recreated).toBe(true); // the gap must be reconciled
    expect(renewed?.subscriptions[0]?.id).toBe(create?.id);
    expect(renewed?.subscriptions[1]?.id).not.toBe(change?.id);
    expect(renewed?.subscriptions).toHaveLength(3);
    expect(renewed?.renewAt).toBeLessThanOrEqual(Date.now() + 24 * 60 * 60 * 1000);
  });
});

describe("webhook verifier", () => {
  it("rejects wrong or missing Basic credentials (401) and queues nothing", async () => {
    const { receiver, integrationId } = await setup();
    const body = JSON.stringify({ meta: { action: "change", entity: "person", id: "x" }, data: {}, previous: {} });
    const post = (authorization?: string) =>
      fetch(receiver.url, { method: "POST", headers: { "content-type": "application/json", ...(authorization && { authorization }) }, body }).then((r) => r.status);
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    expect(await post()).toBe(401);
    expect(await post(basic(webhookAuthUser(integrationId), "wrong"))).toBe(401);
    expect(await post(basic(webhookAuthUser("other-integration"), deriveSecret(integrationId)))).toBe(401);
    expect(await post(basic("someone", deriveSecret(integrationId)))).toBe(401);
    expect(receiver.verified).toHaveLength(0);
    expect(await post(basic(webhookAuthUser(integrationId), deriveSecret(integrationId)))).toBe(200);
    expect(receiver.verified).toHaveLength(1);
  });
});

describe("parseChanges", () => {
  it("an edit in Pipedrive's app is `other`, our API write is `self`; record from data, fields from previous", async () => {
    const { sandbox, account, context, receiver, parse } = await setup();
    const client = pipedriveProvider.createClient(context);
    const marker = client.markerField;
    const ids = (await admin<{ ids: number[] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "Ui Person", emails: [{ value: "ui@example.com" }] }] })).body.ids;
    const id = String(ids[0]);
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { job_title: "Head of UI" });
    await sandbox.webhooksIdle(5000);
    await client.updateContacts([{ leadId: "l", externalId: id, properties: { last_name: "Person-Api", [marker]: MARKER } }]);
    await sandbox.webhooksIdle(5000);

    const [create, appEdit, apiEdit] = changesOf(receiver, parse);
    expect(create).toMatchObject({ provider: "pipedrive", accountId: String(account.accountId), recordId: id, kind: "create", type: "create.person", origin: "other" });
    expect(create?.record).toMatchObject({ id, properties: { email: "ui@example.com", first_name: "Ui", last_name: "Person" } });
    expect(appEdit).toMatchObject({ kind: "update", origin: "other", fields: { job_title: "Head of UI" } });
    expect(appEdit?.record?.properties["job_title"]).toBe("Head of UI");
    expect(apiEdit).toMatchObject({ kind: "update", origin: "self", fields: { first_name: "Ui", last_name: "Person-Api", [marker]: MARKER } });
    expect(apiEdit?.occurredAt).toBeGreaterThan(0);
    expect(new Set([create, appEdit, apiEdit].map((c) => c?.identity)).size).toBe(3);
  });

  it("redelivery ×4 of one webhook gives one identity", async () => {
    const { sandbox, account, receiver, parse } = await setup((index) => (index < 3 ? 500 : 200));
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "Four Times" }] });
    await sandbox.webhooksIdle(5000);
    expect(receiver.verified.map((v) => v.attempt)).toEqual([1, 2, 3, 4]);
    const changes = changesOf(receiver, parse);
    expect(changes).toHaveLength(4);
    expect(new Set(changes.map((c) => changeDedupeKey(c))).size).toBe(1);
  });

  it("a merge moves the link: both of Pipedrive's webhooks become a merge of the survivor; a delete unlinks", async () => {
    const { sandbox, account, receiver, parse } = await setup();
    const [keep, fold, gone] = (await admin<{ ids: number[] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [{ name: "Keep" }, { name: "Fold" }, { name: "Gone" }] })).body.ids.map(String);
    await sandbox.webhooksIdle(5000);
    receiver.verified.length = 0;
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records/${fold}/merge`, { into: Number(keep) });
    await admin(sandbox, "DELETE", `/__sandbox/accounts/${account.accountId}/records/${gone}`);
    await sandbox.webhooksIdle(5000);
    const changes = changesOf(receiver, parse);
    const merges = changes.filter((c) => c.kind === "merge");
    expect(merges).toHaveLength(2);
    for (const merge of merges) expect(merge).toMatchObject({ recordId: keep, mergedIds: [fold], origin: "other" });
    expect(changes.find((c) => c.kind === "delete")).toMatchObject({ recordId: gone, type: "delete.person" });
  });
});
