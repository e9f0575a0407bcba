import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../src/index.js";
import { admin, lead, sandboxWithAccount } from "./helpers.js";

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function setup() {
  const s = await sandboxWithAccount();
  sandbox = s.sandbox;
  return s;
}

describe("Leads writes", () => {
  it("inserts with per-record results: 201, then 207 with DUPLICATE_DATA naming the existing record, MANDATORY_NOT_FOUND, MULTIPLE_OR_MULTI_ERRORS", async () => {
    const { api, account } = await setup();
    const created = await api("POST", "/crm/v8/Leads", { data: [lead(1), lead(2)] });
    expect(created.status).toBe(201);
    expect(created.body.data[0]).toMatchObject({ code: "SUCCESS", status: "success", message: "record added" });
    expect(created.body.data[0].details.Modified_By.id).toBe(account.apiUser.id);
    const existingId = created.body.data[0].details.id as string;

    const mixed = await api("POST", "/crm/v8/Leads", {
      data: [lead(3), { ...lead(9), Email: "LEAD1@example.com" }, { Email: "x@example.com", Company: "X" }, { Email: "lead2@example.com" }],
    });
    expect(mixed.status).toBe(207);
    const [ok, duplicate, mandatory, multi] = mixed.body.data;
    expect(ok.code).toBe("SUCCESS");
    expect(duplicate).toMatchObject({ code: "DUPLICATE_DATA", status: "error", details: { api_name: "Email", json_path: "$.data[1].Email", id: existingId, duplicate_record: { id: existingId } } });
    expect(mandatory).toMatchObject({ code: "MANDATORY_NOT_FOUND", details: { api_name: "Last_Name", json_path: "$.data[2].Last_Name" } });
    expect(multi.code).toBe("MULTIPLE_OR_MULTI_ERRORS");
    expect(multi.details.errors.map((e: { code: string }) => e.code).sort()).toEqual(["DUPLICATE_DATA", "MANDATORY_NOT_FOUND", "MANDATORY_NOT_FOUND"]);

    const allFailed = await api("POST", "/crm/v8/Leads", { data: [{ Email: "y@example.com", Company: "Y" }] });
    expect(allFailed.status).toBe(400);
    expect(allFailed.body.data[0].code).toBe("MANDATORY_NOT_FOUND");

    const tooMany = await api("POST", "/crm/v8/Leads", { data: Array.from({ length: 101 }, (_, i) => lead(100 + i)) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ code: "LIMIT_EXCEEDED", status: "error", details: { limit: "100" } });

    const invalid = await api("POST", "/crm/v8/Leads", { data: [{ ...lead(50), Email: "not-an-email" }, { ...lead(51), No_Such_Field: "x" }, { ...lead(52), Last_Name: "x".repeat(81) }] });
    expect(invalid.body.data.map((r: { code: string }) => r.code)).toEqual(["INVALID_DATA", "INVALID_DATA", "INVALID_DATA"]);
    expect(invalid.body.data[2].details).toMatchObject({ api_name: "Last_Name", maximum_length: 80 });

    await admin(sandbox as Sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { companyMandatory: false });
    expect((await api("POST", "/crm/v8/Leads", { data: [{ Last_Name: "NoCompany", Email: "nc@example.com" }] })).status).toBe(201);
  });

  it("updates by id (PUT, ≤100), refuses to clear a mandatory field, upserts by duplicate_check_fields", async () => {
    const { api } = await setup();
    const id = (await api("POST", "/crm/v8/Leads", { data: [lead(1)] })).body.data[0].details.id as string;
    const updated = await api("PUT", "/crm/v8/Leads", { data: [{ id, Phone: "+1 555" }, { id: "123", Phone: "x" }, { Phone: "no id" }] });
    expect(updated.status).toBe(207);
    expect(updated.body.data.map((r: { code: string }) => r.code)).toEqual(["SUCCESS", "INVALID_DATA", "MANDATORY_NOT_FOUND"]);
    expect(updated.body.data[0].message).toBe("record updated");
    const cleared = await api("PUT", `/crm/v8/Leads/${id}`, { data: [{ Last_Name: "" }] });
    expect(cleared.body.data[0]).toMatchObject({ code: "MANDATORY_NOT_FOUND", details: { api_name: "Last_Name" } });

    const upserted = await api("POST", "/crm/v8/Leads/upsert", { data: [{ ...lead(1), First_Name: "Changed" }, lead(2)], duplicate_check_fields: ["Email"] });
    expect(upserted.status).toBe(201);
    expect(upserted.body.data[0]).toMatchObject({ action: "update", duplicate_field: "Email", details: { id } });
    expect(upserted.body.data[1]).toMatchObject({ action: "insert", duplicate_field: null });
    const onlyUpdates = await api("POST", "/crm/v8/Leads/upsert", { data: [lead(2)] });
    expect(onlyUpdates.status).toBe(200);
    expect((await api("POST", "/crm/v8/Leads/upsert", { data: [lead(3)], duplicate_check_fields: ["Nope"] })).body.code).toBe("INVALID_DATA");

    const read = await api("GET", `/crm/v8/Leads/${id}`);
    expect(read.body.data[0]).toMatchObject({ id, First_Name: "Changed", Phone: "+1 555", Last_Name: "Last1" });
    expect((await api("DELETE", `/crm/v8/Leads/${id}`)).body.data[0]).toMatchObject({ code: "SUCCESS", details: { id } });
    expect((await api("GET", `/crm/v8/Leads/${id}`)).status).toBe(204);
  });

  it("stamps Modified_By with the token's user for API writes and the person for admin-route edits, Modified_Time per write", async () => {
    const { api, account } = await setup();
    const s = sandbox as Sandbox;
    const created = await admin(s, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1)] });
    expect(created.status).toBe(201);
    const [id] = created.body.ids as string[];
    let record = (await api("GET", `/crm/v8/Leads/${id}`)).body.data[0];
    expect(record.Modified_By.id).toBe(account.person.id);
    expect(record.Modified_Time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    await api("PUT", "/crm/v8/Leads", { data: [{ id, Phone: "1" }] });
    record = (await api("GET", `/crm/v8/Leads/${id}`)).body.data[0];
    expect(record.Modified_By.id).toBe(account.apiUser.id);
    expect((await admin(s, "PATCH", `/__sandbox/accounts/${account.accountId}/records/${id}`, { Phone: "2" })).status).toBe(200);
    const byEmail = await admin(s, "GET", `/__sandbox/accounts/${account.accountId}/records?email=LEAD1@example.com`);
    expect(byEmail.body.data[0]).toMatchObject({ id, Phone: "2", Modified_By: { id: account.person.id } });
    expect((await admin(s, "DELETE", `/__sandbox/accounts/${account.accountId}/records/${id}`)).status).toBe(204);
    expect((await admin(s, "GET", `/__sandbox/accounts/${account.accountId}/records?email=lead1@example.com`)).body.data).toEqual([]);
  });
});

describe("Leads reads", () => {
  it("lists with fields (required), ids, sort_by, If-Modified-Since and page_token paging; 204 when empty", async () => {
    const { api, account } = await setup();
    expect((await api("GET", "/crm/v8/Leads?fields=Email")).status).toBe(204);
    expect((await api("GET", "/crm/v8/Leads")).body).toMatchObject({ code: "REQUIRED_PARAM_MISSING", details: { param_name: "fields" } });
    await admin(sandbox as Sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: Array.from({ length: 5 }, (_, i) => lead(i)) });
    const all = await api("GET", "/crm/v8/Leads?fields=Email,Last_Name&sort_by=id&sort_order=asc&per_page=2");
    expect(all.body.data).toHaveLength(2);
    expect(Object.keys(all.body.data[0]).sort()).toEqual(["Email", "Last_Name", "id"]);
    expect(all.body.info).toMatchObject({ per_page: 2, count: 2, more_records: true });
    const ids: string[] = all.body.data.map((r: { id: string }) => r.id);
    let token: string | null = all.body.info.next_page_token;
    while (token) {
      const next = await api("GET", `/crm/v8/Leads?fields=Email&sort_by=id&sort_order=asc&per_page=2&page_token=${token}`);
      ids.push(...next.body.data.map((r: { id: string }) => r.id));
      token = next.body.info.next_page_token;
    }
    expect(ids).toHaveLength(5);
    expect([...ids].sort()).toEqual(ids);
    expect((await api("GET", `/crm/v8/Leads?fields=Email&ids=${ids[1]},${ids[3]},999`)).body.data.map((r: { id: string }) => r.id)).toEqual([ids[1], ids[3]]);
    expect((await api("GET", "/crm/v8/Leads?fields=Email&page=11&per_page=200")).body.code).toBe("DISCRETE_PAGINATION_LIMIT_EXCEEDED");
    expect((await api("GET", "/crm/v8/Leads/actions/count")).body).toEqual({ count: 5 });

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const since = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00");
    await api("PUT", "/crm/v8/Leads", { data: [{ id: ids[2], Phone: "9" }] });
    const modified = await api("GET", "/crm/v8/Leads?fields=Email,Modified_Time&sort_by=Modified_Time&sort_order=asc", undefined, { "If-Modified-Since": since });
    expect(modified.body.data.map((r: { id: string }) => r.id)).toEqual([ids[2]]);
  });

  it("searches by email and criteria", async () => {
    const { api, account } = await setup();
    await admin(sandbox as Sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(1), lead(2), { ...lead(3), Last_Name: "Smith" }] });
    const byEmail = await api("GET", "/crm/v8/Leads/search?email=LEAD2@example.com");
    expect(byEmail.body.data.map((r: { Email: string }) => r.Email)).toEqual(["lead2@example.com"]);
    const criteria = encodeURIComponent("((Email:equals:lead1@example.com)or(Last_Name:starts_with:Smi))");
    const byCriteria = await api("GET", `/crm/v8/Leads/search?criteria=${criteria}&fields=Email`);
    expect(byCriteria.body.data.map((r: { Email: string }) => r.Email).sort()).toEqual(["lead1@example.com", "lead3@example.com"]);
    expect((await api("GET", "/crm/v8/Leads/search?email=none@example.com")).status).toBe(204);
    expect((await api("GET", "/crm/v8/Leads/search?criteria=Email:equals")).body.code).toBe("INVALID_QUERY");
    expect((await api("GET", "/crm/v8/Leads/search")).body.code).toBe("REQUIRED_PARAM_MISSING");
  });
});
