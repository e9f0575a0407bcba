import type { DefaultJobOptions } from "bullmq";

/**
 * The one place for BullMQ job defaults. Queues created with `createQueue` use these unless a caller overrides.
 */

const HOUR_S = 60 * 60;

/** Retries for transient failures (CRM 5xx, 429, Postgres hiccups); permanent ones throw UnrecoverableError. */
export const DEFAULT_ATTEMPTS = 8;
/** First retry after ~2 s, doubling: 2, 4, 8 … 128 s; the whole schedule spans ~4 minutes. */
export const DEFAULT_BACKOFF_DELAY_MS = 2_000;
/** Spread retries by up to half their delay so a burst of failures does not retry in lockstep. */
export const DEFAULT_BACKOFF_JITTER = 0.5;

/**
 * Completed jobs are kept 48 h so a deterministic job id still dedupes HubSpot's redeliveries (up to 24 h
 * after the first attempt), and capped by count so a flood cannot grow Redis without bound.
 */
export const COMPLETED_RETENTION = { age: 48 * HOUR_S, count: 200_000 } as const;
/** Failed jobs are kept a week for operators to inspect and retry from Bull Board. */
export const FAILED_RETENTION = { age: 7 * 24 * HOUR_S, count: 50_000 } as const;

export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = Object.freeze({
  attempts: DEFAULT_ATTEMPTS,
  backoff: { type: "exponential", delay: DEFAULT_BACKOFF_DELAY_MS, jitter: DEFAULT_BACKOFF_JITTER },
  removeOnComplete: COMPLETED_RETENTION,
  removeOnFail: FAILED_RETENTION,
});
