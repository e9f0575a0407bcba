import { randomUUID } from "node:crypto";
import pg from "pg";
import { scriptMatchesChecksum } from "./checksum.js";
import { createDatabaseIfMissing, redactDatabaseUrl } from "./database-url.js";
import { DEFAULT_MIGRATIONS_DIR, readMigrations, type MigrationFile } from "./migration-files.js";

/**
 * Applies `prisma/migrations` the way `prisma migrate deploy` does (ARCHITECTURE.md, "Prisma on machines
 * without internet"): same `_prisma_migrations` table, same checksums, same advisory lock key, so either
 * tool sees the other's work as applied. Unlike Prisma, each migration runs inside a transaction, so a
 * failed migration leaves no half-applied schema behind.
 */

/** Structural subset of a pino logger. */
export interface MigrationLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MigrateOptions {
  logger?: MigrationLogger;
  /** Defaults to the repository's `prisma/migrations`. */
  migrationsDir?: string;
}

export interface MigrateResult {
  /** Names of the migrations this run applied, in order. */
  applied: string[];
}

export type MigrationErrorCode = "failed_migration_recorded" | "checksum_mismatch" | "migration_failed" | "schema_not_empty";

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

/** The key Prisma's schema engine locks on Postgres: our runner and `prisma migrate deploy` exclude each other. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

const INVALID_CATALOG_NAME = "3D000"; // the database does not exist

// Prisma's own definition of the table (schema engine, postgres flavour).
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  started_at: Date;
}

const silentLogger: MigrationLogger = { info() {}, warn() {} };

export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const logger = options.logger ?? silentLogger;
  const migrations = await readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const client = await connectCreatingDatabase(databaseUrl, logger);
  try {
    // Session-level lock: concurrent runners (several replicas starting at once) wait here, then find nothing to do.
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
    try {
      await ensureMigrationsTable(client);
      const history = await readHistory(client);
      checkHistory(history, migrations, logger);
      const appliedNames = new Set(history.map((row) => row.migration_name));
      const applied: string[] = [];
      for (const migration of migrations.filter((m) => !appliedNames.has(m.name))) {
        await applyMigration(client, migration);
        logger.info({ migration: migration.name }, "migration applied");
        applied.push(migration.name);
      }
      if (applied.length === 0) logger.info({ migrations: migrations.length }, "database schema is up to date");
      return { applied };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function connectCreatingDatabase(databaseUrl: string, logger: MigrationLogger): Promise<pg.Client> {
  try {
    return await connect(databaseUrl);
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) throw error;
    if (await createDatabaseIfMissing(databaseUrl)) {
      logger.info({ database: redactDatabaseUrl(databaseUrl) }, "database created");
    }
    return connect(databaseUrl);
  }
}

async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

async function ensureMigrationsTable(client: pg.Client): Promise<void> {
  const exists = await client.query(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS "exists"`);
  if (exists.rows[0]?.exists) return;
  // Like `prisma migrate deploy` (P3005): never run the first migration over tables made some other way.
  const tables = await client.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name LIMIT 5",
  );
  if (tables.rowCount) {
    const names = tables.rows.map((row: { table_name: string }) => row.table_name).join(", ");
    throw new MigrationError(
      "schema_not_empty",
      `The database schema is not empty (${names}, …) but has no migration history (_prisma_migrations). ` +
        "Migrate an empty database, or baseline this one (https://pris.ly/d/migrate-baseline).",
    );
  }
  await client.query(CREATE_MIGRATIONS_TABLE);
}

/** Rows that count: rolled-back attempts are history only (Prisma re-applies those migrations). */
async function readHistory(client: pg.Client): Promise<HistoryRow[]> {
  const result = await client.query<HistoryRow>(
    `SELECT "migration_name", "checksum", "finished_at", "started_at" FROM "_prisma_migrations"
     WHERE "rolled_back_at" IS NULL ORDER BY "started_at"`,
  );
  return result.rows;
}

function checkHistory(history: HistoryRow[], migrations: MigrationFile[], logger: MigrationLogger): void {
  const failed = history.filter((row) => row.finished_at === null);
  if (failed.length > 0) {
    const names = failed.map((row) => row.migration_name);
    throw new MigrationError(
      "failed_migration_recorded",
      `Migration ${names.join(", ")} is recorded as failed in _prisma_migrations, so no migration is applied. ` +
        "Our runner rolled its transaction back; fix the migration, then mark the attempt rolled back: " +
        `UPDATE "_prisma_migrations" SET "rolled_back_at" = now() WHERE "migration_name" = '${names[0]}' AND "finished_at" IS NULL; ` +
        "(or `prisma migrate resolve --rolled-back <name>`), and run the migrations again.",
    );
  }
  const files = new Map(migrations.map((m) => [m.name, m]));
  const edited = history.filter((row) => {
    const file = files.get(row.migration_name);
    return file !== undefined && !scriptMatchesChecksum(file.script, row.checksum);
  });
  if (edited.length > 0) {
    throw new MigrationError(
      "checksum_mismatch",
      `Migration ${edited.map((row) => row.migration_name).join(", ")} was modified after it was applied ` +
        "(its migration.sql no longer matches the checksum in _prisma_migrations). " +
        "Never edit an applied migration: restore the file and add a new migration for the change.",
    );
  }
  const unknown = history.filter((row) => !files.has(row.migration_name)).map((row) => row.migration_name);
  if (unknown.length > 0) {
    // A newer release may already have migrated this database; that is not an error for the older one.
    logger.warn({ migrations: unknown }, "the database has migrations that are not in prisma/migrations");
  }
}

/** Records the attempt first (outside the transaction), like Prisma, so a failure stays visible in the history. */
async function applyMigration(client: pg.Client, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at") VALUES ($1, $2, $3, now())`,
    [id, migration.checksum, migration.name],
  );
  try {
    await client.query("BEGIN");
    await client.query(migration.script);
    await client.query(
      `UPDATE "_prisma_migrations" SET "finished_at" = now(), "applied_steps_count" = "applied_steps_count" + 1 WHERE "id" = $1`,
      [id],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    await client
      .query(`UPDATE "_prisma_migrations" SET "logs" = $1 WHERE "id" = $2`, [reason, id])
      .catch(() => undefined);
    throw new MigrationError("migration_failed", `Migration ${migration.name} failed and was rolled back: ${reason}`);
  }
}
