import { cp, mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { migrationChecksum } from "../src/checksum.js";
import { migrate, MigrationError } from "../src/migrate.js";
import { DEFAULT_MIGRATIONS_DIR, readMigrations } from "../src/migration-files.js";
import { withDatabase } from "../src/database-url.js";
import { testServerUrl } from "../src/testing.js";
import { scratchDatabase } from "./support/scratch-database.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function newDatabase() {
  const db = scratchDatabase();
  cleanups.push(db.drop);
  return db;
}

/** A throw-away migrations folder with the given migrations. */
async function migrationsDir(migrations: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "leadsync-migrations-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(migrations)) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

const history = (url: string) =>
  query<MigrationRow>(url, `SELECT * FROM "_prisma_migrations" ORDER BY "started_at", "migration_name"`);

describe("migrate", () => {
  it("creates the missing database, applies every migration once and records it like prisma migrate deploy", async () => {
    const db = newDatabase();
    const exists = () => query(withDatabase(testServerUrl(), "postgres"), "SELECT 1 FROM pg_database WHERE datname = $1", [db.name]);
    expect(await exists()).toHaveLength(0);

    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);
    expect(await migrate(db.url)).toEqual({ applied: files.map((f) => f.name) });
    expect(await exists()).toHaveLength(1);

    const rows = await history(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const row of rows) {
      const script = await readFile(join(DEFAULT_MIGRATIONS_DIR, row.migration_name, "migration.sql"), "utf8");
      expect(row.checksum).toBe(migrationChecksum(script));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }

    expect(await migrate(db.url)).toEqual({ applied: [] });
    expect(await history(db.url)).toHaveLength(files.length);
  });

  it("applies each migration once when two runners start together", async () => {
    const db = newDatabase();
    const files = await readMigrations();
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(files.map((f) => f.name).sort());
    expect(await history(db.url)).toHaveLength(files.length);
  });

  it("refuses to run when an applied migration's file was edited, but accepts other line endings", async () => {
    const db = newDatabase();
    const dir = await migrationsDir({ "20260101000000_a": "CREATE TABLE a (id int);\n" });
    await migrate(db.url, { migrationsDir: dir });

    await writeFile(join(dir, "20260101000000_a", "migration.sql"), "CREATE TABLE a (id int);\r\n");
    expect(await migrate(db.url, { migrationsDir: dir })).toEqual({ applied: [] });

    await writeFile(join(dir, "20260101000000_a", "migration.sql"), "CREATE TABLE a (id bigint);\n");
    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toMatchObject({
      name: "MigrationError",
      code: "checksum_mismatch",
      message: expect.stringContaining("20260101000000_a was modified after it was applied"),
    });
  });

  it("rolls a failing migration back, records the failure, and refuses to continue until it is resolved", async () => {
    const db = newDatabase();
    const dir = await migrationsDir({
      "20260101000000_a": "CREATE TABLE a (id int);",
      "20260102000000_b": "CREATE TABLE b (id int);\nSELECT * FROM no_such_table;",
    });
    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toMatchObject({ code: "migration_failed" });

    const rows = await history(db.url);
    expect(rows.map((r) => [r.migration_name, r.finished_at === null])).toEqual([
      ["20260101000000_a", false],
      ["20260102000000_b", true],
    ]);
    expect(rows[1]?.logs).toContain("no_such_table");
    expect(await query(db.url, "SELECT to_regclass('b') AS t")).toEqual([{ t: null }]); // the transaction was rolled back

    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toMatchObject({ code: "failed_migration_recorded" });

    // The documented way out: fix the file, mark the failed attempt rolled back, run again.
    await writeFile(join(dir, "20260102000000_b", "migration.sql"), "CREATE TABLE b (id int);");
    await query(db.url, `UPDATE "_prisma_migrations" SET "rolled_back_at" = now() WHERE "finished_at" IS NULL`);
    expect(await migrate(db.url, { migrationsDir: dir })).toEqual({ applied: ["20260102000000_b"] });
  });

  it("refuses to start the history over tables it did not create", async () => {
    const db = newDatabase();
    await migrate(db.url, { migrationsDir: await migrationsDir({}) }); // creates the empty database and the history table
    await query(db.url, `DROP TABLE "_prisma_migrations"; CREATE TABLE legacy (id int)`);
    const error = await migrate(db.url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({ code: "schema_not_empty", message: expect.stringContaining("legacy") });
  });

  it("can be copied into a fresh folder and still match (checksums depend on the file only)", async () => {
    const db = newDatabase();
    const copy = await mkdtemp(join(tmpdir(), "leadsync-migrations-"));
    cleanups.push(() => rm(copy, { recursive: true, force: true }));
    await cp(DEFAULT_MIGRATIONS_DIR, copy, { recursive: true });
    await migrate(db.url);
    expect(await migrate(db.url, { migrationsDir: copy })).toEqual({ applied: [] });
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
