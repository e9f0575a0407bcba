import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../src/migrate.js";
import { createTestDatabase } from "../src/testing.js";
import { databaseSchema } from "./support/database-schema.js";
import { declaredSchema, readSchema } from "./support/declared-schema.js";
import { diffSnapshots, type SchemaSnapshot } from "./support/schema-snapshot.js";
import { scratchDatabase } from "./support/scratch-database.js";

/**
 * schema.prisma and prisma/migrations must describe the same database: Prisma Client is generated from the
 * first, the database is built from the second. If this fails, write the migration for your schema change
 * (or fix it); the message lists every difference.
 */
describe("schema drift: schema.prisma vs. the migrated database", () => {
  const fresh = scratchDatabase();
  let declared: SchemaSnapshot;

  beforeAll(async () => {
    await migrate(fresh.url);
    declared = await declaredSchema(await readSchema());
  });
  afterAll(() => fresh.drop());

  it("finds no difference after applying every migration to a new database", async () => {
    expect(Object.keys(declared.tables).sort()).toEqual(
      ["crm_integrations", "feed_checkpoints", "forms", "integration_errors", "lead_crm_links", "leads", "privacy_erasures", "sync_jobs", "unlinked_contacts", "webhook_events"],
    );
    expect(diffSnapshots(declared, await databaseSchema(fresh.url))).toEqual([]);
  });

  it("reports a migration that misses or changes a column, an index, a foreign key or an enum value", async () => {
    const db = await createTestDatabase();
    try {
      await run(db.url, `
        ALTER TABLE "leads" DROP COLUMN "phone";
        ALTER TABLE "leads" ALTER COLUMN "company" SET NOT NULL;
        ALTER TABLE "crm_integrations" ALTER COLUMN "tier" SET DEFAULT 'free';
        DROP INDEX "leads_org_id_source_created_at_id_idx";
        CREATE INDEX "leads_email_idx" ON "leads"("email");
        ALTER TABLE "leads" DROP CONSTRAINT "leads_form_id_fkey";
        ALTER TABLE "leads" ADD CONSTRAINT "leads_form_id_fkey" FOREIGN KEY ("form_id") REFERENCES "forms"("id") ON DELETE CASCADE ON UPDATE CASCADE;
        ALTER TYPE "CrmProvider" ADD VALUE 'close';
      `);
      const differences = diffSnapshots(declared, await databaseSchema(db.url));
      expect(differences).toEqual(
        expect.arrayContaining([
          "column leads.phone: missing in the database",
          'leads.company nullable: true in schema.prisma, false in the database',
          `crm_integrations.tier default: "'starter'::text" in schema.prisma, "'free'::text" in the database`,
          "index leads.leads_org_id_source_created_at_id_idx: missing in the database",
          "index leads.leads_email_idx: in the database but not in schema.prisma",
          expect.stringMatching(/^foreign key leads_form_id_fkey on leads: .*"onDelete":"RESTRICT".* in schema\.prisma, .*"onDelete":"CASCADE"/),
          expect.stringMatching(/^enum CrmProvider: values .* in schema\.prisma, .*"close".* in the database$/),
        ]),
      );
      expect(differences).toHaveLength(7);
    } finally {
      await db.drop();
    }
  });

  it("reports a schema.prisma change that has no migration", async () => {
    const schema = (await readSchema()).replace(
      /(model Lead \{[^}]*?)(\n  source )/,
      '$1\n  nickname  String?       @map("nickname")$2',
    );
    expect(schema).toContain("nickname");
    const differences = diffSnapshots(await declaredSchema(schema), await databaseSchema(fresh.url));
    expect(differences).toEqual(["column leads.nickname: missing in the database"]);
  });
});

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
