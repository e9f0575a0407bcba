import type { createRedisConnection } from "../../packages/queue/src/index.js";

type Redis = ReturnType<typeof createRedisConnection>;

/** One finished `crm-changes` job: which accounts its events named and BullMQ's timestamps (ms epoch). */
export interface JobTiming {
  accounts: string[];
  /** When the receiver took the delivery (the payload's receivedAt). */
  receivedAt: number;
  /** When a worker took it (processedOn) and when it completed (finishedOn). */
  processedOn: number;
  finishedOn: number;
}

/**
 * The timestamps of a queue's completed jobs, read after the run straight from their hashes (the queue keeps
 * completed jobs for a while: they dedupe redeliveries), to split a change's latency into delivery, wait and run.
 */
export async function completedJobTimings(redis: Redis, prefix: string, queue: string): Promise<JobTiming[]> {
  const ids = await redis.zrange(`${prefix}:${queue}:completed`, 0, -1);
  const timings: JobTiming[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + 500)) pipeline.hmget(`${prefix}:${queue}:${id}`, "data", "processedOn", "finishedOn");
    for (const [error, value] of (await pipeline.exec()) ?? []) {
      const [data, processedOn, finishedOn] = (value ?? []) as (string | null)[];
      if (error || !data || !processedOn || !finishedOn) continue;
      // The payload's head holds receivedAt and accounts; the events after them are not needed.
      const head = JSON.parse(data) as { receivedAt?: number; accounts?: string[] };
      timings.push({ accounts: head.accounts ?? [], receivedAt: head.receivedAt ?? Number.NaN, processedOn: Number(processedOn), finishedOn: Number(finishedOn) });
    }
  }
  return timings;
}

/** For each change of an account (in time order), the first job of that account received at or after it. */
export function jobOfChange<C extends { account: string; sentAt: number }>(changes: readonly C[], jobs: readonly JobTiming[]): Map<C, JobTiming> {
  const byAccount = new Map<string, JobTiming[]>();
  for (const job of jobs) {
    for (const account of job.accounts) {
      const list = byAccount.get(account) ?? [];
      list.push(job);
      byAccount.set(account, list);
    }
  }
  for (const list of byAccount.values()) list.sort((a, b) => a.receivedAt - b.receivedAt);
  const found = new Map<C, JobTiming>();
  for (const change of changes) {
    const job = byAccount.get(change.account)?.find((j) => j.receivedAt >= change.sentAt);
    if (job) found.set(change, job);
  }
  return found;
}
