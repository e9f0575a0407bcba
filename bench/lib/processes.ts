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
  /** Resident set size now (VmRSS), in bytes; undefined once the process is gone. */
  rssBytes(): number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The Node flags a root script starts its app with (e.g. `start:worker`'s heap cap), so the bench runs each app
 * exactly as an operator does: the scripts in package.json are the one place they are set.
 */
export function nodeFlagsOf(script: string): string[] {
  const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const command = scripts[script];
  if (!command) throw new Error(`package.json has no script ${script}`);
  return command.split(/\s+/).filter((word) => /^--(max|min)-[a-z-]+=\S+$/.test(word));
}

/**
 * Starts one of our apps as its own process: `node [flags] --import tsx <entry>` (one process, not tsx's wrapper plus
 * a child, so its pid is the one whose memory we read). Output goes to a log file in `logDir`.
 */
export function startApp(name: string, entry: string, env: Record<string, string>, logDir: string, nodeFlags: string[] = []): BenchProcess {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", join(ROOT, entry)], {
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
    peakRssBytes: () => procStatusBytes(child.pid, "VmHWM"),
    rssBytes: () => procStatusBytes(child.pid, "VmRSS"),
    async stop(graceMs) {
      await stop(graceMs);
      await removeCleanup();
    },
  };
}

/** A memory line of /proc/<pid>/status (kB) in bytes; undefined when the process is gone. */
function procStatusBytes(pid: number | undefined, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
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
