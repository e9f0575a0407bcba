import { afterEach, describe, expect, it } from "vitest";
import type { Sandbox } from "../src/index.js";
import { admin, raw, sandboxWithAccount, sdkError } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup() {
  const ctx = await sandboxWithAccount();
  cleanups.push(() => ctx.sandbox.close());
  return ctx;
}

async function markerField(api: Awaited<ReturnType<typeof setup>>["api"]): Promise<string> {
  const created = await api.personFields.addPersonField({ CreateFieldRequest: { name: "Lead Source System", field_type: "varchar" } });
  return created.data?.key as string;
}

describe("persons v2 through the official SDK", () => {
  it("creates, reads, updates and deletes a person; custom fields by their 40-character key", async () => {
    const { api } = await setup();
    const key = await markerField(api);
    expect(key).toMatch(/^[0-9a-f]{40}$/);

    const created = await api.persons.addPerson({
      AddPersonRequest: { name: "Ada Lovelace", emails: [{ value: "ada@example.com", primary: true, label: "work" }], job_title: "CTO", custom_fields: { [key]: "jazzaam" } },
    });
    const person = created.data as Record<string, unknown>;
    expect(person).toMatchObject({ name: "Ada Lovelace", first_name: "Ada", last_name: "Lovelace", job_title: "CTO", custom_fields: { [key]: "jazzaam" } });
    expect(person["update_time"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const id = person["id"] as number;

    const updated = await api.persons.updatePerson({ id, UpdatePersonRequest: { phones: [{ value: "+3725550000", primary: true }] } });
    expect(updated.data?.phones?.[0]).toMatchObject({ value: "+3725550000", primary: true });
    expect((await api.persons.getPerson({ id })).data?.emails?.[0]?.value).toBe("ada@example.com");

    expect((await api.persons.deletePerson({ id })).data?.id).toBe(id);
    const gone = await sdkError(api.persons.getPerson({ id }));
    expect(gone).toMatchObject({ success: false, error: "Person not found", data: null, additional_data: null });
  });

  it("rejects bodies Pipedrive rejects: no name, unknown custom field, unknown parameter", async () => {
    const { api, sandbox, account } = await setup();
    expect(await sdkError(api.persons.addPerson({ AddPersonRequest: { emails: [{ value: "x@example.com" }] } }))).toMatchObject({ success: false, error: "Name is required" });
    expect(await sdkError(api.persons.addPerson({ AddPersonRequest: { name: "X", custom_fields: { ["f".repeat(40)]: "y" } } }))).toMatchObject({ success: false });
    const unknown = await raw(sandbox, "/api/v2/persons", { method: "POST", token: account.apiToken, body: { name: "X", first_name: "Y" } });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({ success: false, data: null });
  });

  it("lists by ids, by updated_since sorted by update_time, in cursor pages", async () => {
    const { api, sandbox, account } = await setup();
    const created = await admin<{ ids: number[] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, {
      records: Array.from({ length: 7 }, (_, i) => ({ name: `P ${i}`, emails: [{ value: `p${i}@example.com` }] })),
    });
    const ids = created.body.ids;
    const byIds = await api.persons.getPersons({ ids: `${ids[1]},${ids[3]}` });
    expect(byIds.data?.map((p) => p.id)).toEqual([ids[1], ids[3]]);
    const tooMany = await sdkError(api.persons.getPersons({ ids: Array.from({ length: 101 }, (_, i) => i + 1).join(",") }));
    expect(tooMany["success"]).toBe(false);

    sandbox.advanceClock(5_000);
    const since = new Date(sandbox.now()).toISOString();
    sandbox.advanceClock(1_000);
    await api.persons.updatePerson({ id: ids[5] as number, UpdatePersonRequest: { job_title: "later" } });
    await api.persons.updatePerson({ id: ids[2] as number, UpdatePersonRequest: { job_title: "later" } });
    const modified = await api.persons.getPersons({ updated_since: since, sort_by: "update_time" });
    expect(modified.data?.map((p) => p.id)).toEqual([ids[2], ids[5]]);

    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const pageResult = await api.persons.getPersons({ limit: 3, ...(cursor !== undefined && { cursor }) });
      seen.push(...(pageResult.data ?? []).map((p) => p.id as number));
      cursor = pageResult.additional_data?.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(ids);
  });

  it("searches persons by email (exact_match case-insensitive), 2-char minimum otherwise", async () => {
    const { api, sandbox, account } = await setup();
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, {
      records: [{ name: "A", emails: [{ value: "Dup@Example.com" }] }, { name: "B", emails: [{ value: "dup@example.com" }] }, { name: "C", emails: [{ value: "other@example.com" }] }],
    });
    const exact = await api.persons.searchPersons({ term: "dup@example.com", fields: "email", exact_match: true });
    expect(exact.data?.items?.map((i) => i.item?.name)).toEqual(["A", "B"]);
    expect(exact.data?.items?.[0]?.item?.emails).toEqual(["Dup@Example.com"]);
    const partial = await api.persons.searchPersons({ term: "example", fields: "email" });
    expect(partial.data?.items).toHaveLength(3);
    expect(await sdkError(api.persons.searchPersons({ term: "d", fields: "email" }))).toMatchObject({ success: false });
  });

  it("lags search behind writes when searchIndexDelayMs is set", async () => {
    const ctx = await sandboxWithAccount({ searchIndexDelayMs: 60_000 });
    cleanups.push(() => ctx.sandbox.close());
    await ctx.api.persons.addPerson({ AddPersonRequest: { name: "New", emails: [{ value: "new@example.com" }] } });
    expect((await ctx.api.persons.searchPersons({ term: "new@example.com", fields: "email", exact_match: true })).data?.items).toHaveLength(0);
    ctx.sandbox.advanceClock(60_000);
    expect((await ctx.api.persons.searchPersons({ term: "new@example.com", fields: "email", exact_match: true })).data?.items).toHaveLength(1);
  });

  it("answers 401 for a wrong token, takes api_token in the query, and 410 for v1 persons", async () => {
    const { sandbox, account } = await setup();
    const bad = await raw(sandbox, "/api/v2/persons", { token: "0".repeat(40) });
    expect(bad.status).toBe(401);
    expect(bad.json).toMatchObject({ success: false, error: "unauthorized access", data: null, additional_data: null });
    expect((await raw(sandbox, `/api/v2/persons?api_token=${account.apiToken}`)).status).toBe(200);
    const v1 = await raw(sandbox, "/v1/persons", { token: account.apiToken });
    expect(v1.status).toBe(410);
    expect((await raw(sandbox, "/api/v1/users/me", { token: account.apiToken })).status).toBe(200);
  });

  it("reads users/me, creates custom fields through v1 and v2, organizations and leads (person_id or organization_id required)", async () => {
    const { api, account } = await setup();
    const me = await api.users.getCurrentUser();
    expect(me.data).toMatchObject({ id: account.userId, company_id: account.accountId, company_domain: account.companyDomain });

    const v2Field = await api.personFieldsV2.addPersonField({ AddPersonFieldRequest: { field_name: "Score", field_type: "double" } });
    expect(v2Field.data?.field_code).toMatch(/^[0-9a-f]{40}$/);
    const fields = await api.personFields.getPersonFields({});
    expect(fields.data?.find((f) => f.key === v2Field.data?.field_code)).toMatchObject({ name: "Score", edit_flag: true });
    expect(fields.data?.find((f) => f.key === "email")).toMatchObject({ edit_flag: false });

    const org = await api.organizations.addOrganization({ AddOrganizationRequest: { name: "Acme Ltd" } });
    const found = await api.organizations.searchOrganization({ term: "acme ltd", fields: "name", exact_match: true });
    expect(found.data?.items?.[0]?.item?.id).toBe(org.data?.id);

    const person = await api.persons.addPerson({ AddPersonRequest: { name: "Lead Person", org_id: org.data?.id as number } });
    expect(await sdkError(api.leads.addLead({ AddLeadRequest: { title: "No link" } }))).toMatchObject({ success: false });
    const lead = await api.leads.addLead({ AddLeadRequest: { title: "From jazzaam", person_id: person.data?.id as number, origin_id: "jazzaam" } });
    expect(lead.data).toMatchObject({ title: "From jazzaam", person_id: person.data?.id, origin_id: "jazzaam", origin: "API" });
  });
});

export type { Sandbox };
