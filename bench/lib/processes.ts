import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { onCleanup } from "./cleanup.js";

/** The repository root (bench/lib/ → ../..). */
export const ROOT = join(import.meta.dirname, "..", "..");

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Peak resident set size so far (VmHWM), in bytes; undefined once the process is gone. */
  peakRssBytes(): number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts one of our apps as its own process: `node --import tsx <entry>` (one process, not tsx's wrapper plus a
 * child, so its pid is the one whose memory we read). Output goes to a log file in `logDir`.
 */
export function startApp(name: string, entry: string, env: Record<string, string>, logDir: string): BenchProcess {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  async function stop(graceMs = 20_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
  const removeCleanup = onCleanup(`process ${name}`, () => stop(5_000));
  return {
    name,
    child,
    logFile,
    peakRssBytes() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
        return kb === undefined ? undefined : Number(kb) * 1024;
      } catch {
        return undefined;
      }
    },
    async stop(graceMs) {
      await stop(graceMs);
      await removeCleanup();
    },
  };
}

/** Polls `url` until it answers 200; fails early when the process exits. */
export async function waitForHttp(url: string, proc: BenchProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode} before it was ready (log: ${proc.logFile})`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready at ${url} after ${timeoutMs} ms (log: ${proc.logFile})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
