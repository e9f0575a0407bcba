import { afterEach, describe, expect, it } from "vitest";
import type { SalesforceSandbox } from "../src/index.js";
import { admin, lead, rejection, sandboxWithAccount } from "./helpers.js";

let sandbox: SalesforceSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function withExternalIdField(conn: Awaited<ReturnType<typeof sandboxWithAccount>>["conn"]) {
  await conn.tooling.sobject("CustomField").create({ FullName: "Lead.Lead_Source_System__c", Metadata: { label: "Lead Source System", type: "Text", length: 64, externalId: true } });
  await conn.tooling.sobject("CustomField").create({ FullName: "Lead.Jazzaam_Id__c", Metadata: { label: "Jazzaam Id", type: "Text", length: 64, externalId: true, unique: false } });
}

describe("sObject Collections", () => {
  it("creates 3 leads with a failing one in the middle: HTTP 200, results in order", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const results = await started.conn.sobject("Lead").create([lead(1), { FirstName: "NoLastName", Company: "X" }, lead(3)]);
    expect(results).toHaveLength(3);
    expect(results[0]).toMatchObject({ success: true, id: expect.stringMatching(/^00Q/) });
    expect(results[1]).toMatchObject({ success: false, errors: [expect.objectContaining({ statusCode: "REQUIRED_FIELD_MISSING", fields: ["LastName"] })] });
    expect(results[2]).toMatchObject({ success: true });
    const stored = await admin<unknown[]>(started.sandbox, "GET", `/__sandbox/accounts/${started.account.accountId}/records`);
    expect(stored.body).toHaveLength(2);
  });

  it("allOrNone rolls the whole batch back", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const results = await started.conn.sobject("Lead").create([lead(1), { FirstName: "NoLastName", Company: "X" }], { allOrNone: true });
    expect(results.map((r) => r.success)).toEqual([false, false]);
    expect((results[0] as { errors: Array<{ statusCode: string }> }).errors[0]?.statusCode).toBe("ALL_OR_NONE_OPERATION_ROLLED_BACK");
    const stored = await admin<unknown[]>(started.sandbox, "GET", `/__sandbox/accounts/${started.account.accountId}/records`);
    expect(stored.body).toHaveLength(0);
  });

  it("updates, retrieves and upserts up to 200 records; refuses 201", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn } = started;
    await withExternalIdField(conn);
    const created = await conn.sobject("Lead").create([lead(1), lead(2)]);
    const ids = created.map((r) => (r as { id: string }).id) as [string, string];
    const updated = await conn.sobject("Lead").update([{ Id: ids[0], Title: "A" }, { Id: "00Q000000000000AAA", Title: "B" }, { Id: ids[1], Title: "C" }]);
    expect(updated.map((r) => r.success)).toEqual([true, false, true]);

    const retrieved = (await conn.retrieve("Lead", [ids[1] as string, ids[0] as string], { fields: ["Id", "Title"] })) as Array<Record<string, unknown>>;
    expect(retrieved.map((r) => r["Title"])).toEqual(["C", "A"]);

    const upserted = await conn.sobject("Lead").upsert(
      [
        { ...lead(5), Jazzaam_Id__c: "j-5" },
        { ...lead(6), Jazzaam_Id__c: "j-6" },
      ],
      "Jazzaam_Id__c",
    );
    expect(upserted.map((r) => (r as { created: boolean }).created)).toEqual([true, true]);
    const again = await conn.sobject("Lead").upsert([{ Jazzaam_Id__c: "j-5", Title: "again" }], "Jazzaam_Id__c");
    expect(again[0]).toMatchObject({ success: true, created: false, id: (upserted[0] as { id: string }).id });

    const tooMany = await rejection(conn.sobject("Lead").create(Array.from({ length: 201 }, (_, i) => lead(100 + i))));
    expect(tooMany.errorCode).toBe("EXCEEDED_ID_LIMIT");
  });
});

describe("upsert by external id", () => {
  it("201 creates, 200 updates, 300 lists the matches", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn } = started;
    await withExternalIdField(conn);

    const created = await conn.sobject("Lead").upsert({ ...lead(1), Jazzaam_Id__c: "j-1" }, "Jazzaam_Id__c");
    expect(created).toMatchObject({ success: true, created: true });
    const updated = await conn.sobject("Lead").upsert({ Jazzaam_Id__c: "j-1", Title: "Dr" }, "Jazzaam_Id__c");
    expect(updated).toMatchObject({ success: true, created: false });

    // two records with the same (non-unique) external id value, as a person could make them in the UI
    await admin(started.sandbox, "POST", `/__sandbox/accounts/${started.account.accountId}/records`, { records: [{ ...lead(2), Jazzaam_Id__c: "dup" }, { ...lead(3), Jazzaam_Id__c: "dup" }] });
    const multiple = await rejection(conn.sobject("Lead").upsert({ Jazzaam_Id__c: "dup", Title: "x" }, "Jazzaam_Id__c"));
    expect(multiple.errorCode).toBe("MULTIPLE_CHOICES");
    expect(multiple.data).toEqual([expect.stringMatching(/^\/services\/data\/v59\.0\/sobjects\/Lead\/00Q/), expect.stringMatching(/^\/services\/data\/v59\.0\/sobjects\/Lead\/00Q/)]);

    const collection = await conn.sobject("Lead").upsert([{ Jazzaam_Id__c: "dup", Title: "x" }], "Jazzaam_Id__c");
    expect(collection[0]).toMatchObject({ success: false, errors: [expect.objectContaining({ statusCode: "DUPLICATE_EXTERNAL_ID" })] });
  });
});

describe("SOQL query", () => {
  it("pages with nextRecordsUrl and filters the way a sync polls", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn, account } = started;
    const records = Array.from({ length: 450 }, (_, i) => lead(i));
    const seeded = await admin<{ ids: string[] }>(started.sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records });
    expect(seeded.body.ids).toHaveLength(450);

    const soql = "SELECT Id, Email, SystemModstamp FROM Lead WHERE SystemModstamp > 2020-01-01T00:00:00Z ORDER BY SystemModstamp, Id";
    const first = await conn.query(soql, { headers: { "Sforce-Query-Options": "batchSize=200" } } as never);
    expect(first).toMatchObject({ totalSize: 450, done: false });
    expect(first.records).toHaveLength(200);
    // jsforce hands back the locator URL made absolute; on the wire it is instance-relative
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v59\.0\/query\/01g[a-zA-Z0-9]+-200$/);
    const raw = await fetch(`${started.sandbox.url}/services/data/v59.0/query?q=${encodeURIComponent(soql)}`, {
      headers: { authorization: `Bearer ${account.connect.accessToken}`, "sforce-query-options": "batchSize=200" },
    });
    expect(((await raw.json()) as { nextRecordsUrl: string }).nextRecordsUrl).toMatch(/^\/services\/data\/v59\.0\/query\/01g[a-zA-Z0-9]+-200$/);
    // queryMore sends no Sforce-Query-Options, so the rest comes at the default batch size (2000)
    const second = await conn.queryMore(first.nextRecordsUrl as string);
    expect(second).toMatchObject({ done: true, totalSize: 450 });
    expect(second.records).toHaveLength(250);
    const all = [...first.records, ...second.records].map((r) => r["Id"] as string);
    expect(new Set(all).size).toBe(450);
    expect([...all].sort()).toEqual(all);

    const byEmail = await conn.query("SELECT Id, Email FROM Lead WHERE Email IN ('ada3@example.com', 'ADA4@example.com')");
    expect(byEmail.records.map((r) => r["Email"])).toEqual(["ada3@example.com", "ada4@example.com"]);
    const one = await conn.query("SELECT Id FROM Lead WHERE Email = 'ada7@example.com'");
    expect(one.totalSize).toBe(1);

    const afterId = await conn.query(`SELECT Id FROM Lead WHERE Id > '${all[447]}' ORDER BY Id LIMIT 5`);
    expect(afterId.records.map((r) => r["Id"])).toEqual(all.slice(448));

    const ids = await conn.query(`SELECT Id, LastName FROM Lead WHERE Id IN ('${all[0]}', '${all[1]}') AND Email != null`);
    expect(ids.totalSize).toBe(2);

    const grouped = await conn.query("SELECT Id, Email FROM Lead WHERE (Email = 'ada1@example.com' OR Email = 'ada2@example.com') AND NOT LastName = 'Lovelace2'");
    expect(grouped.records.map((r) => r["Email"])).toEqual(["ada1@example.com"]);
    const viaBuilder = await conn.sobject("Lead").find({ $or: [{ Email: "ada5@example.com" }, { Email: { $in: ["ada6@example.com"] } }] }, ["Id", "Email"]).sort({ Email: 1 });
    expect(viaBuilder.map((r) => r["Email"])).toEqual(["ada5@example.com", "ada6@example.com"]);

    const bad = await rejection(conn.query("SELECT Nope FROM Lead"));
    expect(bad.errorCode).toBe("INVALID_FIELD");
    const malformed = await rejection(conn.query("SELECT Id FROM Lead WHERE"));
    expect(malformed.errorCode).toBe("MALFORMED_QUERY");
  });
});

describe("Get Updated / Get Deleted", () => {
  it("lists ids changed and deleted in the window, via jsforce", async () => {
    const started = await sandboxWithAccount();
    sandbox = started.sandbox;
    const { conn, account } = started;
    const { body } = await admin<{ ids: [string, string, string] }>(started.sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1), lead(2), lead(3)] });
    await admin(started.sandbox, "DELETE", `/__sandbox/accounts/${account.accountId}/records/${body.ids[2]}`);
    const start = new Date(Date.now() - 3_600_000);
    const end = new Date(Date.now() + 120_000);
    const updated = await conn.sobject("Lead").updated(start, end);
    expect([...updated.ids].sort()).toEqual([body.ids[0], body.ids[1]].sort());
    expect(Date.parse(updated.latestDateCovered.replace("+0000", "Z"))).toBeLessThanOrEqual(Date.now());
    const deleted = await conn.sobject("Lead").deleted(start, end);
    expect(deleted.deletedRecords.map((r) => r.id)).toEqual([body.ids[2]]);
    const backwards = await rejection(conn.sobject("Lead").updated(end, start));
    expect(backwards.errorCode).toBe("INVALID_REPLICATION_DATE");
    const tooOld = await rejection(conn.sobject("Lead").updated(new Date(Date.now() - 31 * 24 * 3_600_000), end));
    expect(tooOld.errorCode).toBe("INVALID_REPLICATION_DATE");
  });
});
