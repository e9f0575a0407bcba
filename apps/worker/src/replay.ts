import type { QUEUES, TypedQueue } from "@leadsync/queue";

/**
 * Re-runs an integration's failed jobs (after an operator fixed the cause: a re-authorised token, a corrected
 * lead, a HubSpot outage that outlasted the retries). Jobs go back to waiting with fresh attempts.
 */

export interface ReplayTarget {
  integrationId: string;
  /** The integration's portal id: inbound jobs carry events, not integration ids. */
  portalId: string;
}

export interface ReplayQueues {
  hubspotEvents: TypedQueue<typeof QUEUES.hubspotEvents>;
  crmOutbound: TypedQueue<typeof QUEUES.crmOutbound>;
}

export interface ReplayResult {
  hubspotEvents: number;
  crmOutbound: number;
}

const PAGE = 500;

async function failedJobs<J>(queue: { getFailed(start: number, end: number): Promise<J[]> }): Promise<J[]> {
  const jobs: J[] = [];
  for (let start = 0; ; start += PAGE) {
    const page = await queue.getFailed(start, start + PAGE - 1);
    jobs.push(...page);
    if (page.length < PAGE) return jobs;
  }
}

export async function replayFailedJobs(queues: ReplayQueues, target: ReplayTarget, { dryRun = false } = {}): Promise<ReplayResult> {
  // Read everything first: retrying while paging would shift the failed set under the pages.
  const inbound = (await failedJobs(queues.hubspotEvents)).filter((job) =>
    job.data.events.some((event) => String(event["portalId"]) === target.portalId),
  );
  const outbound = (await failedJobs(queues.crmOutbound)).filter((job) => job.data.integrationId === target.integrationId);
  if (!dryRun) {
    for (const job of [...inbound, ...outbound]) await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
  }
  return { hubspotEvents: inbound.length, crmOutbound: outbound.length };
}
