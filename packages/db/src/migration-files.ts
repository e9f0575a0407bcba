import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { migrationChecksum } from "./checksum.js";

/** `prisma/migrations` at the repository root. */
export const DEFAULT_MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../../prisma/migrations");

export interface MigrationFile {
  /** The folder name, e.g. `20261128000000_init`: Prisma's `migration_name`. */
  name: string;
  script: string;
  checksum: string;
}

/** The migrations in Prisma's layout (`<dir>/<name>/migration.sql`), in the order Prisma applies them (folder name). */
export async function readMigrations(migrationsDir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const script = await readFile(join(migrationsDir, name, "migration.sql"), "utf8");
      return { name, script, checksum: migrationChecksum(script) };
    }),
  );
}
