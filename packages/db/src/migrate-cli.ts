// `pnpm db:migrate`: applies prisma/migrations to DATABASE_URL, creating the database if it is missing.
import { loadConfig } from "@leadsync/config";
import { redactDatabaseUrl } from "./database-url.js";
import { migrate, MigrationError, type MigrationLogger } from "./migrate.js";

const consoleLogger: MigrationLogger = {
  info: (obj, msg) => console.log(msg ?? "", JSON.stringify(obj)),
  warn: (obj, msg) => console.warn(msg ?? "", JSON.stringify(obj)),
};

const { databaseUrl } = loadConfig();
try {
  const { applied } = await migrate(databaseUrl, { logger: consoleLogger });
  console.log(applied.length ? `Applied ${applied.length} migration(s) to ${redactDatabaseUrl(databaseUrl)}` : "Nothing to apply.");
} catch (error) {
  const detail = error instanceof Error ? error.message : String(error);
  // Socket errors carry no Postgres severity: the server is not there at all.
  const serverDown = !(error instanceof MigrationError) && !(error as { severity?: string }).severity;
  const hint = serverDown ? " Is Postgres running? Start it with `docker compose up -d` or set DATABASE_URL." : "";
  console.error(`Migrating ${redactDatabaseUrl(databaseUrl)} failed: ${detail}.${hint}`);
  process.exitCode = 1;
}
