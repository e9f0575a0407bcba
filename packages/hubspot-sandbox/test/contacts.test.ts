import type { Client } from "@hubspot/api-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PortalInfo, Sandbox } from "../src/index.js";
import { admin, sandboxWithPortal } from "./helpers.js";

let sandbox: Sandbox;
let portal: PortalInfo;
let client: Client;

beforeAll(async () => {
  ({ sandbox, portal, client } = await sandboxWithPortal({}, { tier: "unlimited" }));
});
afterAll(async () => {
  await sandbox.close();
});

import { apiError } from "./helpers.js";

describe("contacts basic API through the official SDK", () => {
  it("creates, reads (by id and by email), updates, clears and archives a contact", async () => {
    const created = await client.crm.contacts.basicApi.create({ properties: { email: "Ada@Example.com", firstname: "Ada" }, associations: [] });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.properties["email"]).toBe("ada@example.com");
    expect(created.properties["hs_object_id"]).toBe(created.id);
    expect(created.createdAt).toBeInstanceOf(Date);

    const byEmail = await client.crm.contacts.basicApi.getById("ADA@example.com", ["firstname", "phone"], undefined, undefined, false, "email");
    expect(byEmail.id).toBe(created.id);
    expect(byEmail.properties).toMatchObject({ firstname: "Ada", phone: null });
    expect(byEmail.properties["lastmodifieddate"]).toEqual(expect.any(String));

    const updated = await client.crm.contacts.basicApi.update(created.id, { properties: { firstname: "", lastname: "Lovelace" } });
    expect(updated.properties).toMatchObject({ firstname: null, lastname: "Lovelace" });
    const read = await client.crm.contacts.basicApi.getById(created.id, ["firstname", "lastname"]);
    expect(read.properties).toMatchObject({ firstname: null, lastname: "Lovelace" });

    await client.crm.contacts.basicApi.archive(created.id);
    const missing = await apiError(client.crm.contacts.basicApi.getById(created.id));
    expect(missing.code).toBe(404);
    const archived = await client.crm.contacts.basicApi.getById(created.id, undefined, undefined, undefined, true);
    expect(archived.archived).toBe(true);
  });

  it("answers 409 with the existing id when the email is taken", async () => {
    const first = await client.crm.contacts.basicApi.create({ properties: { email: "dup@example.com" }, associations: [] });
    const error = await apiError(client.crm.contacts.basicApi.create({ properties: { email: "DUP@example.com" }, associations: [] }));
    expect(error.code).toBe(409);
    expect(error.body).toMatchObject({ status: "error", category: "CONFLICT", message: `Contact already exists. Existing ID: ${first.id}` });
    expect(error.body["correlationId"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("rejects unknown properties and values outside an enumeration's options", async () => {
    const unknown = await apiError(client.crm.contacts.basicApi.create({ properties: { email: "x@example.com", nope: "1" }, associations: [] }));
    expect(unknown.code).toBe(400);
    expect(unknown.body["category"]).toBe("VALIDATION_ERROR");
    expect(String(unknown.body["message"])).toContain("PROPERTY_DOESNT_EXIST");
    expect(String(unknown.body["message"])).toContain("nope");

    const option = await apiError(client.crm.contacts.basicApi.create({ properties: { email: "y@example.com", lifecyclestage: "wizard" }, associations: [] }));
    expect(option.code).toBe(400);
    expect(String(option.body["message"])).toContain("INVALID_OPTION");
  });

  it("pages through the list with limit/after", async () => {
    const { body } = await admin<{ ids: string[] }>(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, {
      contacts: Array.from({ length: 5 }, (_, i) => ({ properties: { email: `page${i}@example.com` } })),
    });
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await client.crm.contacts.basicApi.getPage(2, after);
      expect(page.results.length).toBeLessThanOrEqual(2);
      seen.push(...page.results.map((r) => r.id));
      after = page.paging?.next?.after;
    } while (after);
    expect(seen).toEqual(expect.arrayContaining(body.ids));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("answers 401 INVALID_AUTHENTICATION for an unknown token", async () => {
    const stranger = new (await import("@hubspot/api-client")).Client({ accessToken: "pat-na1-wrong", basePath: sandbox.url });
    const error = await apiError(stranger.crm.contacts.basicApi.getPage());
    expect(error.code).toBe(401);
    expect(error.body["category"]).toBe("INVALID_AUTHENTICATION");
  });
});

describe("contacts batch API", () => {
  it("batch-reads by id and by email, reporting missing ids with 207", async () => {
    const a = await client.crm.contacts.basicApi.create({ properties: { email: "batch-a@example.com", firstname: "A" }, associations: [] });
    const b = await client.crm.contacts.basicApi.create({ properties: { email: "batch-b@example.com", firstname: "B" }, associations: [] });

    const ok = await client.crm.contacts.batchApi.read({ inputs: [{ id: a.id }, { id: b.id }], properties: ["firstname"], propertiesWithHistory: [] });
    expect(ok.results.map((r) => r.properties["firstname"]).sort()).toEqual(["A", "B"]);
    expect(ok).not.toHaveProperty("numErrors");

    const partial = await client.crm.contacts.batchApi.read({ inputs: [{ id: a.id }, { id: "999999999" }], properties: [], propertiesWithHistory: [] });
    expect(partial.results.map((r) => r.id)).toEqual([a.id]);
    expect(partial).toMatchObject({ numErrors: 1 });
    expect((partial as { errors: Array<{ category: string; context: Record<string, string[]> }> }).errors[0]).toMatchObject({
      category: "OBJECT_NOT_FOUND",
      context: { ids: ["999999999"] },
    });

    const byEmail = await client.crm.contacts.batchApi.read({
      inputs: [{ id: "BATCH-B@example.com" }],
      idProperty: "email",
      properties: ["email"],
      propertiesWithHistory: [],
    });
    expect(byEmail.results[0]?.id).toBe(b.id);
  });

  it("upserts by email: creates the new, updates the existing, marks each with _new", async () => {
    const existing = await client.crm.contacts.basicApi.create({ properties: { email: "up-old@example.com", firstname: "Old" }, associations: [] });
    const result = await client.crm.contacts.batchApi.upsert({
      inputs: [
        { id: "up-old@example.com", idProperty: "email", properties: { firstname: "Renamed" } },
        { id: "up-new@example.com", idProperty: "email", properties: { firstname: "Fresh" } },
      ],
    });
    const byEmail = new Map(result.results.map((r) => [r.properties["email"], r]));
    expect(byEmail.get("up-old@example.com")).toMatchObject({ id: existing.id, _new: false });
    expect(byEmail.get("up-old@example.com")?.properties["firstname"]).toBe("Renamed");
    expect(byEmail.get("up-new@example.com")).toMatchObject({ _new: true });
  });

  it("batch-creates, updates and archives, and refuses more than 100 inputs", async () => {
    const created = await client.crm.contacts.batchApi.create({
      inputs: [{ properties: { email: "bc1@example.com" }, associations: [] }, { properties: { email: "bc2@example.com" }, associations: [] }],
    });
    expect(created.results).toHaveLength(2);
    const ids = created.results.map((r) => r.id);

    const updated = await client.crm.contacts.batchApi.update({ inputs: ids.map((id) => ({ id, properties: { jobtitle: "CTO" } })) });
    expect(updated.results.every((r) => r.properties["jobtitle"] === "CTO")).toBe(true);

    await client.crm.contacts.batchApi.archive({ inputs: ids.map((id) => ({ id })) });
    const after = await client.crm.contacts.batchApi.read({ inputs: ids.map((id) => ({ id })), properties: [], propertiesWithHistory: [] });
    expect(after.results).toHaveLength(0);

    const tooMany = await apiError(
      client.crm.contacts.batchApi.read({ inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i) })), properties: [], propertiesWithHistory: [] }),
    );
    expect(tooMany.code).toBe(400);
    expect(tooMany.body["category"]).toBe("VALIDATION_ERROR");
  });
});

describe("contacts search", () => {
  it("filters by email and lastmodifieddate, sorts and pages", async () => {
    const before = Date.now() - 1;
    const { body } = await admin<{ ids: string[] }>(sandbox, "POST", `/__sandbox/portals/${portal.portalId}/contacts`, {
      contacts: Array.from({ length: 7 }, (_, i) => ({ properties: { email: `search${i}@example.com`, company: i % 2 === 0 ? "Even" : "Odd" } })),
    });

    const exact = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: "email", operator: "EQ", value: "SEARCH3@example.com" }] }],
      properties: ["email"],
      limit: 10,
    } as never);
    expect(exact.total).toBe(1);
    expect(exact.results[0]?.id).toBe(body.ids[3]);

    const recent: string[] = [];
    let after: string | undefined;
    do {
      const page = await client.crm.contacts.searchApi.doSearch({
        filterGroups: [
          {
            filters: [
              { propertyName: "lastmodifieddate", operator: "GTE", value: String(before) },
              { propertyName: "company", operator: "EQ", value: "even" },
            ],
          },
        ],
        sorts: ["-hs_object_id"],
        limit: 2,
        ...(after !== undefined && { after }),
      } as never);
      expect(page.total).toBe(4);
      recent.push(...page.results.map((r) => r.id));
      after = page.paging?.next?.after;
    } while (after);
    expect(recent).toEqual([body.ids[6], body.ids[4], body.ids[2], body.ids[0]]);

    const tooBig = await apiError(client.crm.contacts.searchApi.doSearch({ limit: 201 } as never));
    expect(tooBig.code).toBe(400);
  });
});
