import { afterEach, describe, expect, it } from "vitest";
import type { SalesforceSandbox } from "../src/index.js";
import { admin, lead, rejection, sandboxWithAccount } from "./helpers.js";

let sandbox: SalesforceSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("jsforce against the sandbox: Lead rows", () => {
  it("creates, reads, updates and deletes a lead", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn } = started;

    const created = await conn.sobject("Lead").create(lead(1));
    expect(created).toEqual({ id: expect.stringMatching(/^00Q[a-zA-Z0-9]{15}$/), success: true, errors: [] });
    const id = (created as { id: string }).id;

    const read = (await conn.sobject("Lead").retrieve(id)) as Record<string, unknown>;
    expect(read).toMatchObject({ attributes: { type: "Lead" }, Id: id, LastName: "Lovelace1", Company: "Analytical Engines", Status: "Open - Not Contacted", IsConverted: false, IsDeleted: false });
    expect(read["SystemModstamp"]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);

    const updated = await conn.sobject("Lead").update({ Id: id, Title: "Countess", Phone: null });
    expect(updated).toMatchObject({ id, success: true });
    expect(await conn.sobject("Lead").retrieve(id, { fields: ["Title", "LastModifiedById"] })).toMatchObject({ Title: "Countess" });

    await conn.sobject("Lead").destroy(id);
    const gone = await rejection(conn.sobject("Lead").retrieve(id));
    expect(gone.errorCode).toBe("ENTITY_IS_DELETED");
  });

  it("answers Salesforce's validation errors", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn } = started;

    const missing = await rejection(conn.sobject("Lead").create({ FirstName: "No", Email: "no@example.com" }));
    expect(missing.errorCode).toBe("REQUIRED_FIELD_MISSING");
    expect(missing.message).toBe("Required fields are missing: [LastName, Company]");

    const unknown = await rejection(conn.sobject("Lead").create({ ...lead(2), Nope__c: "x" }));
    expect(unknown.errorCode).toBe("INVALID_FIELD");

    const malformed = await rejection(conn.sobject("Lead").update({ Id: "001000000000001AAA", Title: "x" }));
    expect(malformed.errorCode).toBe("MALFORMED_ID");

    const notFound = await rejection(conn.sobject("Lead").retrieve("00Q5g00000000ZZZZZ"));
    expect(["NOT_FOUND", "MALFORMED_ID"]).toContain(notFound.errorCode);
  });

  it("describes Lead, including Lead_Source_System__c once the Tooling API created it", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn } = started;

    const before = await conn.sobject("Lead").describe();
    expect(before.fields.map((f) => f.name)).toEqual(expect.arrayContaining(["Id", "FirstName", "LastName", "Company", "Email", "Status", "IsConverted", "ConvertedContactId", "SystemModstamp"]));
    expect(before.fields.some((f) => f.name === "Lead_Source_System__c")).toBe(false);

    const result = await conn.tooling.sobject("CustomField").create({
      FullName: "Lead.Lead_Source_System__c",
      Metadata: { label: "Lead Source System", type: "Text", length: 64, externalId: true },
    });
    expect(result).toMatchObject({ success: true, id: expect.stringMatching(/^00N/) });

    // jsforce caches describe per connection: ask the server again
    const after = (await conn.request(`/services/data/v59.0/sobjects/Lead/describe`)) as { fields: Array<{ name: string; externalId: boolean; custom: boolean }> };
    expect(after.fields.find((f) => f.name === "Lead_Source_System__c")).toMatchObject({ externalId: true, custom: true });

    const again = await rejection(conn.tooling.sobject("CustomField").create({ FullName: "Lead.Lead_Source_System__c", Metadata: { label: "x", type: "Text", length: 10 } }));
    expect(again.errorCode).toBe("DUPLICATE_DEVELOPER_NAME");
  });

  it("refuses Tooling CustomField without Customize Application (403)", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    await admin(started.sandbox, "PATCH", `/__sandbox/accounts/${started.account.accountId}`, { customizeApplication: false });
    const response = await fetch(`${started.sandbox.url}/services/data/v59.0/tooling/sobjects/CustomField`, {
      method: "POST",
      headers: { authorization: `Bearer ${started.account.connect.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ FullName: "Lead.Lead_Source_System__c", Metadata: { label: "Lead Source System", type: "Text", length: 64 } }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual([expect.objectContaining({ errorCode: "INSUFFICIENT_ACCESS_OR_READONLY" })]);
    const viaJsforce = await rejection(started.conn.tooling.sobject("CustomField").create({ FullName: "Lead.X__c", Metadata: { label: "X", type: "Text", length: 5 } }));
    expect(viaJsforce.errorCode).toBe("INSUFFICIENT_ACCESS_OR_READONLY");
  });
});

describe("Tooling API: Change Data Capture selection and queries", () => {
  it("deselects and reselects Lead through PlatformEventChannelMember; tooling/query lists members and custom fields", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn, account } = started;
    const members = await conn.tooling.query<{ Id: string; SelectedEntity: string }>("SELECT Id, SelectedEntity FROM PlatformEventChannelMember WHERE EventChannel = 'ChangeEvents'");
    expect(members.records.map((r) => r.SelectedEntity)).toEqual(["LeadChangeEvent"]);

    await conn.tooling.sobject("PlatformEventChannelMember").destroy(members.records[0]?.Id as string);
    await conn.sobject("Lead").create(lead(1));
    let log = await admin<{ events: unknown[] }>(started.sandbox, "GET", `/__sandbox/accounts/${account.accountId}/events`);
    expect(log.body.events).toHaveLength(0);

    const selected = await conn.tooling.sobject("PlatformEventChannelMember").create({ FullName: "ChangeEvents_LeadChangeEvent", Metadata: { eventChannel: "ChangeEvents", selectedEntity: "LeadChangeEvent" } });
    expect(selected).toMatchObject({ success: true, id: expect.stringMatching(/^0v8/) });
    const twice = await rejection(conn.tooling.sobject("PlatformEventChannelMember").create({ FullName: "ChangeEvents_LeadChangeEvent", Metadata: { eventChannel: "ChangeEvents", selectedEntity: "LeadChangeEvent" } }));
    expect(twice.errorCode).toBe("DUPLICATE_VALUE");
    await conn.sobject("Lead").create(lead(2));
    log = await admin(started.sandbox, "GET", `/__sandbox/accounts/${account.accountId}/events`);
    expect(log.body.events).toHaveLength(1);

    await conn.tooling.sobject("CustomField").create({ FullName: "Lead.Lead_Source_System__c", Metadata: { label: "Lead Source System", type: "Text", length: 64 } });
    const fields = await conn.tooling.query<{ DeveloperName: string }>("SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = 'Lead' AND DeveloperName = 'Lead_Source_System'");
    expect(fields.records.map((r) => r.DeveloperName)).toEqual(["Lead_Source_System"]);
  });
});
