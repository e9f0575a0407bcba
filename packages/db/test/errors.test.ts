import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isForeignKeyViolation, isUniqueViolation, postgresFailure } from "../src/errors.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

// Prisma reports a constraint violation differently for model and raw queries; both must read the same.

let db: TestDatabase;
let formId: string;
beforeAll(async () => {
  db = await createTestDatabase();
  formId = (await db.prisma.form.create({ data: { orgId: "org-err", name: "Website" } })).id;
  await db.prisma.lead.create({ data: { orgId: "org-err", formId, email: "taken@example.com", source: "jazzaam" } });
});
afterAll(async () => db?.drop());

const rawInsert = (email: string, form: string) =>
  db.prisma.$executeRaw`INSERT INTO leads (id, org_id, form_id, email, source, updated_at) VALUES (gen_random_uuid(), 'org-err', ${form}::uuid, ${email}, 'jazzaam', now())`;

describe("postgresFailure", () => {
  it("reads a unique violation from a model query and from a raw one, with the raw one's index", async () => {
    const model = await db.prisma.lead.create({ data: { orgId: "org-err", formId, email: "taken@example.com", source: "jazzaam" } }).catch((e: unknown) => e);
    const raw = await rawInsert("taken@example.com", formId).catch((e: unknown) => e);
    expect(isUniqueViolation(model)).toBe(true);
    expect(isUniqueViolation(raw)).toBe(true);
    expect(postgresFailure(raw)).toEqual({ code: "23505", index: "leads_org_id_email_key" });
    expect(isForeignKeyViolation(raw)).toBe(false);
  });

  it("reads a foreign-key violation from both kinds of query", async () => {
    const missingForm = "00000000-0000-4000-8000-000000000000";
    const model = await db.prisma.lead.create({ data: { orgId: "org-err", formId: missingForm, email: "fk@example.com", source: "jazzaam" } }).catch((e: unknown) => e);
    const raw = await rawInsert("fk@example.com", missingForm).catch((e: unknown) => e);
    expect(isForeignKeyViolation(model)).toBe(true);
    expect(isForeignKeyViolation(raw)).toBe(true);
    expect(isUniqueViolation(raw)).toBe(false);
  });

  it("is null for anything that is not a Postgres failure", () => {
    expect(postgresFailure(new Error("boom"))).toBeNull();
    expect(postgresFailure(null)).toBeNull();
    expect(postgresFailure({ code: "P2025" })).toBeNull();
  });
});
