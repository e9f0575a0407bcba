import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/ports.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The environment of a `pnpm start` child: its own database, ports, queue prefix and dev state file (its folder also
 * holds the emulators' snapshots). `stablePorts`: fixed free ports for the CRM emulators too, for tests that start
 * twice with one environment (an integration stores its emulator's URLs, e.g. Zoho's api_domain).
 */
export async function devStartEnv(databaseUrl: string, queuePrefix: string, { stablePorts = false } = {}): Promise<Record<string, string | undefined>> {
  const dir = mkdtempSync(join(tmpdir(), "leadsync-start-"));
  return {
    PATH: process.env["PATH"],
    HOME: process.env["HOME"],
    NODE_ENV: "development",
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
    QUEUE_PREFIX: queuePrefix,
    PORT: String(await freePort()),
    HUBSPOT_SANDBOX_PORT: String(await freePort()),
    // Any free port for each CRM emulator (0 also moves the Pub/Sub gRPC and Zoho API-domain ports): tests run side by side.
    SALESFORCE_SANDBOX_PORT: stablePorts ? String(await freePortPair()) : "0",
    ZOHO_SANDBOX_PORT: stablePorts ? String(await freePortPair()) : "0",
    PIPEDRIVE_SANDBOX_PORT: stablePorts ? String(await freePort()) : "0",
    RECONCILE_INTERVAL_MS: "0",
    LEADSYNC_DEV_STATE: join(dir, "dev.json"),
  };
}

/** A free port whose next port is free too (the Salesforce and Zoho emulators listen on both). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const next = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port + 1, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (next) return port;
  }
}

export interface StartedChild {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ctrl-C in a terminal: SIGINT to the whole foreground process group (pnpm, the shell, tsx, node). */
  interrupt(signal?: NodeJS.Signals): void;
}

/** `pnpm start` as a user runs it, in its own process group; resolves once the banner is printed. */
export async function pnpmStart(env: Record<string, string | undefined>, { timeoutMs = 60_000 } = {}): Promise<StartedChild> {
  const child = spawn("pnpm", ["start"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  // "close", not "exit": it fires once the output is fully read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const started: StartedChild = {
    child,
    output: () => output,
    exited,
    interrupt: (signal = "SIGINT") => process.kill(-child.pid!, signal),
  };
  const deadline = Date.now() + timeoutMs;
  while (!output.includes("LeadSync is running")) {
    const done = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
    if (done) throw new Error(`pnpm start exited before its banner:\n${output}`);
    if (Date.now() > deadline) {
      started.interrupt("SIGKILL");
      throw new Error(`pnpm start printed no banner in ${timeoutMs} ms:\n${output}`);
    }
  }
  // The workers' startup (the Salesforce feed subscription and its first reconciliation) is let finish before a test
  // interrupts: a stop in the middle of it hits races in the worker's shutdown (see apps/dev/src/pipeline.ts close()).
  const settleBy = Date.now() + 3_000;
  while (!/feed subscribed/.test(output) && Date.now() < settleBy && started.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  return started;
}
