import { isCrmRateLimited, isCrmReauthRequired } from "@leadsync/core";
import { DelayedError, UnrecoverableError, type Job } from "bullmq";

/** How long jobs of an integration that needs re-authorisation wait before looking again. */
export const PAUSED_INTEGRATION_RETRY_MS = 60_000;

/**
 * The integration cannot call the CRM until a person acts (a refused OAuth refresh token): its jobs wait in
 * the delayed set, without using attempts, instead of failing or being dropped.
 */
export class IntegrationPausedError extends Error {
  readonly retryAfterMs = PAUSED_INTEGRATION_RETRY_MS;
  constructor(readonly integrationId: string, reason: string) {
    super(`integration ${integrationId} is paused: ${reason}`);
    this.name = "IntegrationPausedError";
  }
}

/**
 * How a job reacts to a failure of its part of a batch. A rate limit (or a paused integration) is not a failure:
 * the job goes back to the delayed set for as long as asked, without using up an attempt.
 */
export async function rethrowForBullMQ(job: Job, error: unknown): Promise<never> {
  const waitMs = waitInsteadOfFailing(error);
  if (waitMs !== undefined && job.token) {
    await job.moveToDelayed(Date.now() + waitMs, job.token);
    throw new DelayedError();
  }
  throw error;
}

/** How long to delay the job for errors that are "not now" rather than failures; undefined otherwise. */
export function waitInsteadOfFailing(error: unknown): number | undefined {
  if (isCrmRateLimited(error) || error instanceof IntegrationPausedError) return error.retryAfterMs;
  // The refusal has just marked the integration needs_reauth (@leadsync/providers): later attempts see it paused.
  if (isCrmReauthRequired(error)) return PAUSED_INTEGRATION_RETRY_MS;
  return undefined;
}

/** True when this failure ends the job: no attempt left, or an error that retrying cannot fix. */
export function isFinalAttempt(job: Job, error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  if (waitInsteadOfFailing(error) !== undefined) return false;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
