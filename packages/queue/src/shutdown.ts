import type { RedisClient } from "./connection.js";

/** Structural, so typed `Worker<Payload>` / `Queue<Payload>` instances fit without casts. */
export interface ClosableWorker {
  close(force?: boolean): Promise<void>;
}
export interface ClosableQueue {
  close(): Promise<void>;
}

export interface Closeables {
  workers?: readonly ClosableWorker[];
  queues?: readonly ClosableQueue[];
  /** Connections the caller created; closed last, after every queue and worker that used them. */
  connections?: readonly RedisClient[];
}

export interface CloseAllResult {
  /** true when the deadline passed and workers/connections were closed forcibly. */
  timedOut: boolean;
}

/**
 * Graceful shutdown in dependency order: workers first (they finish their active jobs), then queues, then
 * the Redis connections. Bounded: past `timeoutMs` workers are force-closed (their jobs become stalled and
 * are picked up again by another worker) and connections are dropped.
 */
export async function closeAll(closeables: Closeables, { timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<CloseAllResult> {
  const { workers = [], queues = [], connections = [] } = closeables;
  const graceful = (async () => {
    await Promise.allSettled(workers.map((w) => w.close()));
    await Promise.allSettled(queues.map((q) => q.close()));
    await Promise.allSettled(connections.map(closeConnection));
  })();

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const outcome = await Promise.race([graceful.then(() => "done" as const), deadline]);
  clearTimeout(timer);
  if (outcome === "done") return { timedOut: false };

  await Promise.allSettled(workers.map((w) => w.close(true)));
  for (const connection of connections) connection.disconnect();
  return { timedOut: true };
}

/** QUIT when connected (pending replies arrive first); otherwise just stop reconnecting. */
async function closeConnection(connection: RedisClient): Promise<void> {
  if (connection.status === "end") return;
  if (connection.status !== "ready") {
    connection.disconnect();
    return;
  }
  try {
    await connection.quit();
  } catch {
    connection.disconnect();
  }
}
