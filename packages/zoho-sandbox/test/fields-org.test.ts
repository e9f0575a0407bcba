import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../src/index.js";
import { admin, lead, sandboxWithAccount } from "./helpers.js";

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("settings/fields, org, users", () => {
  it("creates a custom field whose api_name is generated (read back from GET), refuses a duplicate label", async () => {
    const s = await sandboxWithAccount();
    sandbox = s.sandbox;
    const before = await s.api("GET", "/crm/v8/settings/fields?module=Leads");
    expect(before.body.fields.map((f: { api_name: string }) => f.api_name)).toContain("Last_Name");
    expect(before.body.fields.find((f: { api_name: string }) => f.api_name === "Last_Name").system_mandatory).toBe(true);
    expect((await s.api("GET", "/crm/v8/settings/fields")).body.code).toBe("REQUIRED_PARAM_MISSING");

    await admin(s.sandbox, "PATCH", `/__sandbox/accounts/${s.account.accountId}`, { fieldApiNameSuffix: "_X9" });
    const created = await s.api("POST", "/crm/v8/settings/fields?module=Leads", { fields: [{ field_label: "Lead Source System", data_type: "text", length: 255 }] });
    expect(created.status).toBe(201);
    expect(created.body.fields[0]).toMatchObject({ code: "SUCCESS", details: { id: expect.any(String) } });
    expect(created.body.fields[0].details.api_name).toBeUndefined();
    const after = await s.api("GET", "/crm/v8/settings/fields?module=Leads");
    const field = after.body.fields.find((f: { id: string }) => f.id === created.body.fields[0].details.id);
    expect(field).toMatchObject({ api_name: "Lead_Source_System_X9", field_label: "Lead Source System", custom_field: true });

    const again = await s.api("POST", "/crm/v8/settings/fields?module=Leads", { fields: [{ field_label: "Lead Source System", data_type: "text" }] });
    expect(again.status).toBe(400);
    expect(again.body.fields[0].code).toBe("DUPLICATE_DATA");

    const written = await s.api("POST", "/crm/v8/Leads", { data: [lead(1, { Lead_Source_System_X9: "jazzaam" })] });
    expect(written.status).toBe(201);
    const id = written.body.data[0].details.id as string;
    expect((await s.api("GET", `/crm/v8/Leads?fields=Lead_Source_System_X9&ids=${id}`)).body.data[0].Lead_Source_System_X9).toBe("jazzaam");
  });

  it("answers NO_PERMISSION to a non-admin's field creation", async () => {
    const s = await sandboxWithAccount({}, { fieldsPermission: false });
    sandbox = s.sandbox;
    const refused = await s.api("POST", "/crm/v8/settings/fields?module=Leads", { fields: [{ field_label: "Lead Source System", data_type: "text" }] });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "NO_PERMISSION", status: "error", details: { permissions: expect.any(Array) } });
  });

  it("names the org (id, edition, licensed users) and the token's user", async () => {
    const s = await sandboxWithAccount({}, { edition: "professional", users: 7 });
    sandbox = s.sandbox;
    const org = await s.api("GET", "/crm/v8/org");
    expect(org.body.org[0]).toMatchObject({ id: s.account.accountId, license_details: { paid_type: "professional", users_license_purchased: 7 } });
    const me = await s.api("GET", "/crm/v8/users?type=CurrentUser");
    expect(me.body.users).toEqual([expect.objectContaining({ id: s.account.apiUser.id, email: s.account.apiUser.email })]);
  });
});
