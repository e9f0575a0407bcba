import { findProviderModule } from "@leadsync/providers";
import { asQueueGroup, type CrmChangesJob, type QUEUES, type QueueGroup, type TypedQueue } from "@leadsync/queue";

/**
 * Re-runs an integration's failed jobs (after an operator fixed the cause: a re-authorised token, a corrected
 * lead, a HubSpot outage that outlasted the retries). Jobs go back to waiting with fresh attempts.
 */

export interface ReplayTarget {
  integrationId: string;
  /** The integration's portal id: inbound jobs carry events, not integration ids. */
  provider: string;
  accountId: string;
}

/** Every shard and lane of each queue is searched. */
export interface ReplayQueues {
  crmChanges: TypedQueue<typeof QUEUES.crmChanges> | QueueGroup<typeof QUEUES.crmChanges>;
  crmOutbound: TypedQueue<typeof QUEUES.crmOutbound> | QueueGroup<typeof QUEUES.crmOutbound>;
}

export interface ReplayResult {
  crmChanges: number;
  crmOutbound: number;
}

const PAGE = 500;

async function failedJobs<J>(queues: readonly { getFailed(start: number, end: number): Promise<J[]> }[]): Promise<J[]> {
  const jobs: J[] = [];
  for (const queue of queues) {
    for (let start = 0; ; start += PAGE) {
      const page = await queue.getFailed(start, start + PAGE - 1);
      jobs.push(...page);
      if (page.length < PAGE) break;
    }
  }
  return jobs;
}

/** The CRM accounts a changes job names: as the receiver listed them, else read from its changes or raw events. */
function accountsOf(job: CrmChangesJob): string[] {
  if (job.accounts) return job.accounts;
  if (job.changes) return job.changes.map((change) => change.accountId);
  const module = findProviderModule(job.provider);
  // Only the account ids are read here: the environment's values do not matter to them.
  return module ? module.parseChanges(job.events ?? [], { env: { marker: "", requestTimeoutMs: 0 } }).map((change) => change.accountId) : [];
}

export async function replayFailedJobs(queues: ReplayQueues, target: ReplayTarget, { dryRun = false } = {}): Promise<ReplayResult> {
  // Read everything first: retrying while paging would shift the failed set under the pages.
  const inbound = (await failedJobs(asQueueGroup(queues.crmChanges).queues)).filter((job) =>
    job.data.provider === target.provider && accountsOf(job.data).includes(target.accountId),
  );
  const outbound = (await failedJobs(asQueueGroup(queues.crmOutbound).queues)).filter((job) => job.data.integrationId === target.integrationId);
  if (!dryRun) {
    for (const job of [...inbound, ...outbound]) await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
  }
  return { crmChanges: inbound.length, crmOutbound: outbound.length };
}
