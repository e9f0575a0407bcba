import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { migrate } from "../../../packages/db/src/index.js";
import { freePort } from "../../helpers/ports.js";

/**
 * A private Postgres cluster (initdb + pg_ctl) on its own port and temp dir, for tests that stop the database.
 * The shared Postgres on 5432 is never touched.
 */
export interface OwnPostgres {
  /** The migrated `leadsync` database of this cluster. */
  url: string;
  stop(): void;
  start(): void;
  destroy(): void;
}

const PG_CTL = "/usr/local/bin/pg_ctl";
const INITDB = "/usr/local/bin/initdb";

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` system user. */
function runPg(binary: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  execFileSync(asRoot ? "/usr/sbin/runuser" : binary, asRoot ? ["-u", "postgres", "--", binary, ...args] : args, { stdio: "ignore" });
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "leadsync-pg-"));
  if (process.getuid?.() === 0) {
    const owner = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const group = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, owner, group);
  }
  const data = join(dir, "data");
  runPg(INITDB, ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = () => {
    runPg(PG_CTL, ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
  };
  // -m fast: disconnects clients at once (the outage the workers must survive).
  const stop = () => {
    runPg(PG_CTL, ["-D", data, "-m", "fast", "-w", "stop"]);
  };
  start();
  const serverUrl = `postgresql://postgres@127.0.0.1:${port}`;
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await admin.connect();
  await admin.query("CREATE DATABASE leadsync");
  await admin.end();
  const url = `${serverUrl}/leadsync`;
  await migrate(url, { logger: { info: () => undefined, warn: () => undefined } });
  return {
    url,
    start,
    stop,
    destroy() {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
