import { createHash, randomBytes } from "node:crypto";
import type { PrismaClient } from "./generated/prisma/client.js";
import { createPrismaClient } from "./client.js";
import { quoteIdentifier, withDatabase, withMaintenanceClient } from "./database-url.js";
import { migrate } from "./migrate.js";
import { DEFAULT_MIGRATIONS_DIR, readMigrations } from "./migration-files.js";

/**
 * Test databases (`@leadsync/db/testing`). The global setup builds one migrated template per version of
 * `prisma/migrations`; each test file clones it with `CREATE DATABASE … TEMPLATE`, which takes
 * milliseconds, and drops its clone at the end. Tests never touch `pnpm start`'s database: only the
 * server and credentials of DATABASE_URL are used.
 */

const DEFAULT_BASE_URL = "postgresql://postgres:postgres@127.0.0.1:5432/postgres";
const TEMPLATE_PREFIX = "leadsync_test_template_";
const OBJECT_IN_USE = "55006"; // "source database is being accessed by other users"

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** A client connected to it (disconnected by `drop()`). */
  prisma: PrismaClient;
  /** Disconnects `prisma` and drops the database (WITH (FORCE): other connections are cut). */
  drop(): Promise<void>;
}

/** The Postgres server tests use: DATABASE_URL's server and credentials, or the local default. */
export function testServerUrl(): string {
  return process.env["DATABASE_URL"] ?? DEFAULT_BASE_URL;
}

/** `leadsync_test_template_<hash>`: the hash covers every migration's name and checksum, so a new or changed migration gets a new template. */
export async function templateDatabaseName(migrationsDir: string = DEFAULT_MIGRATIONS_DIR): Promise<string> {
  const hash = createHash("sha256");
  for (const migration of await readMigrations(migrationsDir)) hash.update(`${migration.name}:${migration.checksum}\n`);
  return TEMPLATE_PREFIX + hash.digest("hex").slice(0, 16);
}

let templateReady: Promise<string> | undefined;

/**
 * Creates the migrated template database unless it exists; returns its name. Idempotent and safe across
 * processes (advisory lock). It is built under a temporary name and renamed when complete, so a crashed
 * build never leaves a half-migrated template behind.
 */
export function ensureTemplateDatabase(serverUrl: string = testServerUrl()): Promise<string> {
  templateReady ??= buildTemplateOnce(serverUrl).catch((error: unknown) => {
    templateReady = undefined;
    throw error;
  });
  return templateReady;
}

async function buildTemplateOnce(serverUrl: string): Promise<string> {
  const template = await templateDatabaseName();
  const building = `${template}_building`;
  await withMaintenanceClient(serverUrl, async (client) => {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [TEMPLATE_PREFIX]);
    try {
      const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
      if (exists.rowCount) return;
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(building)} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${quoteIdentifier(building)}`);
      await migrate(withDatabase(serverUrl, building));
      await client.query(`ALTER DATABASE ${quoteIdentifier(building)} RENAME TO ${quoteIdentifier(template)}`);
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [TEMPLATE_PREFIX]);
    }
  });
  return template;
}

/** A fresh, migrated database `leadsync_test_<random>`, cloned from the template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const template = await ensureTemplateDatabase(serverUrl);
  const name = `leadsync_test_${randomBytes(6).toString("hex")}`;
  await withMaintenanceClient(serverUrl, (client) => cloneDatabase(client, template, name));
  const url = withDatabase(serverUrl, name);
  const prisma = createPrismaClient(url);
  let dropped = false;
  return {
    url,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect();
      await dropDatabase(serverUrl, name);
    },
  };
}

/** Drops a database created for a test (WITH (FORCE), so open connections do not block it). */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withMaintenanceClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
}

// Postgres refuses a clone while another session is connected to the template; that only lasts an instant.
async function cloneDatabase(client: { query(sql: string): Promise<unknown> }, template: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(template)}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== OBJECT_IN_USE || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

export {
  createExplainingPrisma,
  createTimedPrisma,
  planNodes,
  scansAndSorts,
  sharedBuffers,
  type CapturedPlan,
  type ExplainingPrisma,
  type PlanNode,
  type TimedPrisma,
} from "./explain.js";
