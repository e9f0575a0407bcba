import { RateLimitedError } from "@leadsync/hubspot";
import { DelayedError, UnrecoverableError, type Job } from "bullmq";

/**
 * How a job reacts to a failure of its part of a batch. A rate limit is not a failure: the job goes back to
 * the delayed set for as long as HubSpot (or our limiter) asked, without using up an attempt.
 */
export async function rethrowForBullMQ(job: Job, error: unknown): Promise<never> {
  if (error instanceof RateLimitedError && job.token) {
    await job.moveToDelayed(Date.now() + error.retryAfterMs, job.token);
    throw new DelayedError();
  }
  throw error;
}

/** True when this failure ends the job: no attempt left, or an error that retrying cannot fix. */
export function isFinalAttempt(job: Job, error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  if (error instanceof RateLimitedError) return false;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
