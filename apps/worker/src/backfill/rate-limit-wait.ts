import { setTimeout as sleep } from "node:timers/promises";
import { waitInsteadOfFailing } from "../job-failures.js";

/**
 * Calls `read` until it answers. A rate limit (ours or HubSpot's 429) or a paused integration is "not now":
 * wait as long as asked — in slices, calling `heartbeat` so the run still looks alive — and try again.
 * Any other error is thrown.
 */
export async function untilNotRateLimited<T>(
  read: () => Promise<T>,
  { heartbeat, heartbeatMs, signal }: { heartbeat: () => Promise<void>; heartbeatMs: number; signal?: AbortSignal | undefined },
): Promise<T> {
  for (;;) {
    try {
      return await read();
    } catch (error) {
      const waitMs = waitInsteadOfFailing(error);
      if (waitMs === undefined) throw error;
      const until = Date.now() + Math.max(waitMs, 1);
      while (Date.now() < until) {
        signal?.throwIfAborted();
        await sleep(Math.min(until - Date.now(), heartbeatMs), undefined, signal ? { signal } : undefined);
        if (Date.now() < until) await heartbeat();
      }
    }
  }
}
