import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertRedisReachable } from "../../helpers/redis.js";
import { freePort, until } from "../../helpers/ports.js";

/**
 * A private redis-server on its own port and temp dir, for tests that stop Redis (never the shared one).
 * Append-only with fsync on every write: what it acknowledged survives a stop and restart, like a production Redis.
 */
export interface OwnRedis {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "leadsync-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  async function start() {
    child = spawn("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""], {
      stdio: "ignore",
    });
    await until(() => assertRedisReachable(url, 500).then(() => true), `redis on ${port}`, 10_000);
  }
  async function stop() {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM"); // redis-server shuts down cleanly on SIGTERM (AOF flushed)
    await exited;
  }
  await start();
  return {
    url,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** redis-server is installed where the suite runs; skip nothing silently. */
export function redisServerAvailable(): boolean {
  return spawnSync("/usr/bin/redis-server", ["--version"]).status === 0;
}
