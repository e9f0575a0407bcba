// How to get a database in a test: copy this. Each test file gets its own migrated database, cloned
// from the template the global setup built, and drops it at the end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CRM_IMPORT_FORM_NAME, ensureCrmImportForm } from "@leadsync/db";
import { createTestDatabase, type TestDatabase } from "@leadsync/db/testing";
import pg from "pg";
import { withDatabase } from "../src/database-url.js";
import { testServerUrl } from "../src/testing.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe("createTestDatabase", () => {
  it("gives the test file an empty, migrated database of its own", async () => {
    expect(db.url).toMatch(/\/leadsync_test_[0-9a-f]{12}$/);
    expect(await db.prisma.lead.count()).toBe(0);
    const form = await db.prisma.form.create({ data: { orgId: "org-1", name: "Newsletter" } });
    expect(form.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("drop() disconnects and removes the database", async () => {
    const other = await createTestDatabase();
    await other.prisma.form.count(); // an open connection must not block the drop
    await other.drop();
    const name = new URL(other.url).pathname.slice(1);
    const client = new pg.Client({ connectionString: withDatabase(testServerUrl(), "postgres") });
    await client.connect();
    try {
      expect((await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });
});

describe("ensureCrmImportForm", () => {
  it("creates the organisation's CRM Import form once, even when called concurrently", async () => {
    const forms = await Promise.all(Array.from({ length: 8 }, () => ensureCrmImportForm(db.prisma, "org-concurrent")));
    expect(new Set(forms.map((f) => f.id)).size).toBe(1);
    expect(forms[0]).toMatchObject({ orgId: "org-concurrent", name: CRM_IMPORT_FORM_NAME, isCrmImport: true });
    expect(await db.prisma.form.count({ where: { orgId: "org-concurrent" } })).toBe(1);

    const again = await ensureCrmImportForm(db.prisma, "org-concurrent");
    expect(again.id).toBe(forms[0]?.id);
  });

  it("keeps organisations apart", async () => {
    const a = await ensureCrmImportForm(db.prisma, "org-a");
    const b = await ensureCrmImportForm(db.prisma, "org-b");
    expect(a.id).not.toBe(b.id);
  });
});
