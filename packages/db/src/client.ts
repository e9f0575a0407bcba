import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.js";
import { redactDatabaseUrl } from "./database-url.js";

/** A Prisma client over node-postgres (`@prisma/adapter-pg`): no native query engine at run time. */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

export type DatabaseCheck =
  | { ok: true }
  | {
      ok: false;
      /** unreachable: no server answers; missing_database: the server answers but the database does not exist (migrate creates it). */
      reason: "unreachable" | "missing_database" | "auth_failed" | "error";
      /** Human-readable, names the URL tried (without its password). */
      message: string;
    };

const INVALID_CATALOG_NAME = "3D000";
const AUTH_FAILURE_CODES = new Set(["28P01", "28000"]);

/** Connects once and runs `SELECT 1`: for `pnpm start`'s friendly error and for `/ready`. Never throws. */
export async function checkDatabase(databaseUrl: string, options: { timeoutMs?: number } = {}): Promise<DatabaseCheck> {
  const where = redactDatabaseUrl(databaseUrl);
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: options.timeoutMs ?? 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const detail = error instanceof Error ? error.message : String(error);
    if (code === INVALID_CATALOG_NAME) {
      return { ok: false, reason: "missing_database", message: `Postgres at ${where} has no such database (${detail})` };
    }
    if (code && AUTH_FAILURE_CODES.has(code)) {
      return { ok: false, reason: "auth_failed", message: `Postgres at ${where} refused the credentials (${detail})` };
    }
    // Only errors the server sent carry a severity; socket errors (ECONNREFUSED, ENOTFOUND, timeouts) do not.
    if (!(error as { severity?: string }).severity) {
      return { ok: false, reason: "unreachable", message: `Cannot reach Postgres at ${where} (${detail || "connection failed"})` };
    }
    return { ok: false, reason: "error", message: `Postgres at ${where} answered with an error (${detail})` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function isDatabaseReachable(databaseUrl: string, options: { timeoutMs?: number } = {}): Promise<boolean> {
  return (await checkDatabase(databaseUrl, options)).ok;
}
