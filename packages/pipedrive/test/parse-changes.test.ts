import { describe, expect, it } from "vitest";
import { parsePipedriveChanges } from "../src/index.js";

const KEY = "a".repeat(40);

function payload(meta: Record<string, unknown>, data: Record<string, unknown> | null, previous: Record<string, unknown> | null) {
  return {
    meta: { entity: "person", company_id: "77", id: "6a1f3f0e-0d3c-4c2e-9a57-5f6f1b2c3d4e", entity_id: "12", webhook_owner_id: "5", attempt: 1, version: "2.0", ...meta },
    data,
    previous,
  };
}

const person = {
  id: 12,
  name: "Ann Smith",
  first_name: "Ann",
  last_name: "Smith",
  org_id: 3,
  emails: [{ value: "ann@example.com", primary: true, label: "work" }],
  phones: [],
  job_title: "CEO",
  update_time: "2026-12-01T10:00:00Z",
  custom_fields: { [KEY]: { type: "varchar", value: "jazzaam" } },
};

describe("parsePipedriveChanges (payloads as Pipedrive documents them)", () => {
  it("takes a 10-digit timestamp, reads the marker out of {type, value}, and unwraps emails into `email`", () => {
    const [change] = parsePipedriveChanges([payload({ action: "change", change_source: "app", user_id: "9", timestamp: 1764583200 }, person, { emails: [{ value: "old@example.com", primary: true }] })]);
    expect(change).toMatchObject({ kind: "update", origin: "other", occurredAt: 1764583200_000, fields: { email: "ann@example.com" } });
    expect(change?.record?.properties).toMatchObject({ email: "ann@example.com", [KEY]: "jazzaam", job_title: "CEO" });
    expect(change?.record?.updatedAt).toBe(Date.parse("2026-12-01T10:00:00Z"));
  });

  it("api by our user is self (stored id, else the webhook owner); api by another user is unknown", () => {
    const event = (userId: string) => payload({ action: "change", change_source: "api", user_id: userId }, person, { job_title: "CTO" });
    expect(parsePipedriveChanges([event("5")])[0]?.origin).toBe("self");
    expect(parsePipedriveChanges([event("5")], { selfUserIdOf: () => "8" })[0]?.origin).toBe("unknown");
    expect(parsePipedriveChanges([event("8")], { selfUserIdOf: (accountId) => (accountId === "77" ? "8" : undefined) })[0]?.origin).toBe("self");
    expect(parsePipedriveChanges([event("6")])[0]?.origin).toBe("unknown");
  });

  it("an organisation change leaves `record` out (its name is not in the payload): the worker reads the person", () => {
    const [change] = parsePipedriveChanges([payload({ action: "change", change_source: "app", user_id: "9" }, person, { org_id: null })]);
    expect(change?.record).toBeUndefined();
    expect(change).toMatchObject({ kind: "update", fields: { org_name: null } });
    // removed from its organisation: the record is known (no organisation)
    const [removed] = parsePipedriveChanges([payload({ action: "change", change_source: "app", user_id: "9" }, { ...person, org_id: null }, { org_id: 3 })]);
    expect(removed?.record?.properties["org_name"]).toBeNull();
  });

  it("a custom field cleared in the app comes as null; a name change sets first and last name", () => {
    const cleared = { ...person, name: "Ann Jones", last_name: "Jones", custom_fields: {} };
    const [change] = parsePipedriveChanges([payload({ action: "change", change_source: "app", user_id: "9" }, cleared, { name: "Ann Smith", last_name: "Smith", custom_fields: { [KEY]: { type: "varchar", value: "jazzaam" } } })]);
    expect(change?.fields).toEqual({ first_name: "Ann", last_name: "Jones", [KEY]: null });
  });

  it("skips other entities and payloads without meta; keeps identity the same across attempts", () => {
    const first = payload({ action: "create", change_source: "app", user_id: "9", attempt: 1 }, person, null);
    const fourth = payload({ action: "create", change_source: "app", user_id: "9", attempt: 4 }, person, null);
    const changes = parsePipedriveChanges([first, fourth, { meta: { entity: "deal", action: "create", id: "x" } }, { nothing: true }, null]);
    expect(changes).toHaveLength(2);
    expect(changes[0]?.identity).toBe(changes[1]?.identity);
    expect(changes[0]).toMatchObject({ kind: "create", recordId: "12", accountId: "77", eventId: first.meta.id });
  });
});
