import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Real LeadSync processes for the fault suite: each app's own entry file run by Node with tsx, so signals,
 * `kill -9`, reconnects and exit codes are the production ones. Every line a process prints is kept.
 */

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export const ENTRIES = {
  receiver: "apps/receiver/src/server.ts",
  api: "apps/api/src/server.ts",
  worker: "apps/worker/src/main.ts",
} as const;
export type AppName = keyof typeof ENTRIES;

export interface AppProcess {
  name: string;
  pid: number;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  running(): boolean;
  signal(signal: NodeJS.Signals): void;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Every process started by this file, so a failing test still leaves none behind (see `stopAllProcesses`). */
const started = new Set<AppProcess>();

export function startApp(app: AppName, env: Record<string, string>, name: string = app): AppProcess {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", ENTRIES[app]], {
    cwd: REPO_ROOT,
    // Only what the process needs: PATH/HOME for tsx, then the test's environment (no inherited secrets or DSNs).
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", NODE_ENV: "test", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (() => {
    let partial = "";
    return (chunk: Buffer) => {
      partial += chunk.toString("utf8");
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (!line.trim()) continue;
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.pattern.test(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    };
  })();
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitCode = code;
      started.delete(handle);
      resolve(code);
    });
  });

  const handle: AppProcess = {
    name,
    pid: child.pid ?? -1,
    lines,
    exited,
    running: () => exitCode === undefined,
    signal: (signal) => {
      if (exitCode === undefined) child.kill(signal);
    },
    waitForLine(pattern, timeoutMs = 20_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join("\n")}`));
        }, timeoutMs);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${name} exited before printing ${pattern}; last lines:\n${lines.slice(-15).join("\n")}`));
        });
      });
    },
    async stop(graceMs = 15_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  started.add(handle);
  return handle;
}

/** Kills whatever this test file started and is still running (afterAll, also after a failure). */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop(5_000)));
}

/** Parsed pino lines of a process (non-JSON lines skipped). */
export function jsonLines(process: AppProcess): Record<string, unknown>[] {
  return process.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** `pnpm cli <args>` as a process with the test's environment: its exit code and everything it printed. */
export async function runCli(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/cli.ts", ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, output };
}
