import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { migrate } from "../../../packages/db/src/index.js";
import { freePort } from "./ports.js";

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

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "leadsync-pg-"));
  const data = join(dir, "data");
  execFileSync(INITDB, ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"], { stdio: "ignore" });
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = () => {
    execFileSync(PG_CTL, ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"], { stdio: "ignore" });
  };
  // -m fast: disconnects clients at once (the outage the workers must survive).
  const stop = () => {
    execFileSync(PG_CTL, ["-D", data, "-m", "fast", "-w", "stop"], { stdio: "ignore" });
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
