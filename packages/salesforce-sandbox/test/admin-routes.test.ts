import { afterEach, describe, expect, it } from "vitest";
import type { SalesforceSandbox } from "../src/index.js";
import { admin, connection, lead, rejection, sandboxWithAccount } from "./helpers.js";

let sandbox: SalesforceSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const org0 = (started: Awaited<ReturnType<typeof sandboxWithAccount>>) => started.sandbox.state.orgs.get(started.account.accountId) as NonNullable<ReturnType<typeof started.sandbox.state.orgs.get>>;

type Event = { changeType: string; recordIds: string[]; changeOrigin: string; commitUser: string; changedFields: string[]; fields: Record<string, unknown>; transactionKey: string };

describe("admin routes", () => {
  it("lists accounts with the connect body POST /api/v1/crm-integration takes", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const created = await admin<{ accountId: string; connect: Record<string, string> }>(started.sandbox, "POST", "/__sandbox/accounts", {});
    expect(created.status).toBe(201);
    expect(Object.keys(created.body.connect).sort()).toEqual(["accessToken", "instanceUrl", "orgId", "provider", "refreshToken"]);
    expect(created.body.connect).toMatchObject({ provider: "salesforce", instanceUrl: started.sandbox.url, orgId: created.body.accountId });
    expect(created.body.accountId).toMatch(/^00D[a-zA-Z0-9]{15}$/);
    const list = await admin<Array<{ accountId: string }>>(started.sandbox, "GET", "/__sandbox/accounts");
    expect(list.body.map((a) => a.accountId)).toEqual([started.account.accountId, created.body.accountId]);
  });

  it("starts an account with custom fields an admin made (upsert key ready) and switches", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const created = await admin<{ accountId: string; connect: { accessToken: string } }>(started.sandbox, "POST", "/__sandbox/accounts", {
      customFields: { Lead_Source_System__c: { label: "Lead Source System", length: 64 }, LeadSync_Id__c: { externalId: true } },
      duplicateRule: true,
    });
    const conn = connection(started.sandbox, { accountId: created.body.accountId, connect: { ...started.account.connect, accessToken: created.body.connect.accessToken } });
    const describe = await conn.sobject("Lead").describe();
    expect(describe.fields.find((f) => f.name === "LeadSync_Id__c")).toMatchObject({ externalId: true, custom: true, length: 255 });
    expect(await conn.sobject("Lead").upsert({ ...lead(1), LeadSync_Id__c: "l-1", Lead_Source_System__c: "leadsync" }, "LeadSync_Id__c")).toMatchObject({ created: true });
    expect((await rejection(conn.sobject("Lead").create({ ...lead(1), LeadSync_Id__c: "l-2" }))).errorCode).toBe("DUPLICATES_DETECTED");
    const inProcess = started.sandbox.createAccount({ customFields: { Lead_Source_System__c: {} } });
    expect(started.sandbox.state.orgs.get(inProcess.accountId)?.field("Lead_Source_System__c")).toBeDefined();
  });

  it("creates, edits, deletes, undeletes, converts and merges as the UI; the change log shows it", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn, account } = started;
    const base = `/__sandbox/accounts/${account.accountId}`;
    const invalid = await admin<Array<{ errorCode: string }>>(started.sandbox, "POST", `${base}/records`, { records: [{ FirstName: "x" }] });
    expect(invalid.status).toBe(400);
    expect(invalid.body[0]?.errorCode).toBe("REQUIRED_FIELD_MISSING");

    const { body } = await admin<{ ids: [string, string, string] }>(started.sandbox, "POST", `${base}/records`, { records: [lead(1), lead(2), lead(3)] });
    const [a, b, c] = body.ids;
    expect((await admin<Array<{ Id: string }>>(started.sandbox, "GET", `${base}/records?email=ADA2@example.com`)).body.map((r) => r.Id)).toEqual([b]);

    expect((await admin(started.sandbox, "PATCH", `${base}/records/${a}`, { Title: "Countess" })).status).toBe(204);
    expect((await admin(started.sandbox, "DELETE", `${base}/records/${a}`)).status).toBe(204);
    expect((await rejection(conn.sobject("Lead").retrieve(a))).errorCode).toBe("ENTITY_IS_DELETED");
    expect((await admin(started.sandbox, "POST", `${base}/records/${a}/undelete`)).status).toBe(204);
    expect(await conn.sobject("Lead").retrieve(a)).toMatchObject({ Title: "Countess", IsDeleted: false });

    const converted = await admin<{ contactId: string }>(started.sandbox, "POST", `${base}/records/${b}/convert`);
    expect(converted.body.contactId).toMatch(/^003/);
    expect(await conn.sobject("Lead").retrieve(b)).toMatchObject({ IsConverted: true, ConvertedContactId: converted.body.contactId, Status: "Closed - Converted" });
    expect(await conn.sobject("Contact").retrieve(converted.body.contactId)).toMatchObject({ Email: "ada2@example.com" });
    expect((await rejection(conn.sobject("Lead").update({ Id: b, Title: "x" }))).errorCode).toBe("CANNOT_UPDATE_CONVERTED_LEAD");
    // the person now lives on the Contact: queryable, and writable through collections
    const contacts = await conn.query(`SELECT Id, Email, SystemModstamp FROM Contact WHERE Id IN ('${converted.body.contactId}')`);
    expect(contacts.records).toEqual([expect.objectContaining({ Id: converted.body.contactId, Email: "ada2@example.com", attributes: expect.objectContaining({ type: "Contact" }) })]);
    const written = await conn.sobject("Contact").update([{ Id: converted.body.contactId, Title: "Engineer" }]);
    expect(written[0]).toMatchObject({ success: true });
    expect(await conn.sobject("Contact").retrieve(converted.body.contactId)).toMatchObject({ Title: "Engineer", LastModifiedById: org0(started).apiUserId });
    expect((await conn.sobject("Contact").describe()).fields.some((f) => f.name === "Company")).toBe(false);

    const merged = await admin<{ id: string; mergedRecordIds: string[] }>(started.sandbox, "POST", `${base}/records/${a}/merge`, { mergeIds: [c], fields: { Phone: "+44 20" } });
    expect(merged.body).toEqual({ id: a, mergedRecordIds: [c] });

    const log = await admin<{ events: Event[] }>(started.sandbox, "GET", `${base}/events`);
    const org = started.sandbox.state.orgs.get(account.accountId);
    expect(log.body.events.map((e) => [e.changeType, e.recordIds[0]])).toEqual([
      ["CREATE", a],
      ["CREATE", b],
      ["CREATE", c],
      ["UPDATE", a],
      ["DELETE", a],
      ["UNDELETE", a],
      ["UPDATE", b],
      ["UPDATE", a],
      ["DELETE", c],
    ]);
    expect(log.body.events.every((e) => e.changeOrigin === "" && e.commitUser === org?.uiUserId)).toBe(true);
    // one transaction: the seeded batch, and the merge
    expect(new Set(log.body.events.slice(0, 3).map((e) => e.transactionKey)).size).toBe(1);
    expect(log.body.events[7]?.transactionKey).toBe(log.body.events[8]?.transactionKey);
    expect(log.body.events[6]?.changedFields.sort()).toEqual(["ConvertedContactId", "ConvertedDate", "IsConverted", "LastModifiedDate", "Status"]);

    const stats = await admin<{ calls: { total: number }; throttled: number; notifications: Record<string, number> }>(started.sandbox, "GET", `${base}/stats`);
    expect(stats.body).toMatchObject({ throttled: 0, notifications: { delivered: 0, failed: 0, pending: 0 } });
    expect(stats.body.calls.total).toBe(9);
  });
});
