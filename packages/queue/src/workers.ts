import { UnrecoverableError, Worker, type Job, type WorkerOptions } from "bullmq";
import type { RedisClient } from "./connection.js";
import { JOB_SCHEMAS, type JobPayload, type QueueName } from "./jobs.js";
import type { QueueLogger } from "./logger.js";

/** A processor gets the job (for id, attempts, progress) and its payload already validated against the contract. */
export type JobProcessor<Q extends QueueName, R = unknown> = (payload: JobPayload<Q>, job: Job<JobPayload<Q>, R, Q>) => Promise<R>;

export interface CreateWorkerOptions {
  /** A worker connection (`createRedisConnection(url, { role: "worker" })`); BullMQ duplicates it for blocking reads. */
  connection: RedisClient;
  prefix: string;
  /** The BullMQ queue to consume: one shard or lane of the contract queue (QueueLayout). Default: the contract queue. */
  queueName?: string;
  concurrency: number;
  logger: QueueLogger;
  limiter?: WorkerOptions["limiter"];
  /** BullMQ's job lock (ms): a crashed worker's jobs become stalled after it. Default BullMQ's 30 s. */
  lockDuration?: number;
  /** How often stalled jobs are moved back to waiting (ms). Default BullMQ's 30 s. */
  stalledInterval?: number;
  /** false: call `worker.run()` yourself (tests). Default true. */
  autorun?: boolean;
}

export function createWorker<Q extends QueueName, R = unknown>(
  name: Q,
  processor: JobProcessor<Q, R>,
  options: CreateWorkerOptions,
): Worker<JobPayload<Q>, R, Q> {
  const { logger } = options;
  const schema = JOB_SCHEMAS[name];
  const queueName = options.queueName ?? name;

  const validatingProcessor = async (job: Job<JobPayload<Q>, R, Q>): Promise<R> => {
    const parsed = schema.safeParse(job.data);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
      logger.error({ queue: queueName, jobId: job.id, issues }, "invalid job payload, not retried");
      // Retrying cannot fix a payload that breaks the contract.
      throw new UnrecoverableError(`invalid ${name} payload: ${issues.join("; ")}`);
    }
    return processor(parsed.data as JobPayload<Q>, job);
  };

  const worker = new Worker<JobPayload<Q>, R, Q>(queueName, validatingProcessor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    autorun: options.autorun ?? true,
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    ...(options.lockDuration === undefined ? {} : { lockDuration: options.lockDuration }),
    ...(options.stalledInterval === undefined ? {} : { stalledInterval: options.stalledInterval }),
  });
  worker.on("error", (err) => logger.error({ err, queue: queueName }, "worker error"));
  worker.on("failed", (job, err) => {
    const final = job === undefined || err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    logger.warn({ err, queue: queueName, jobId: job?.id, attemptsMade: job?.attemptsMade, final }, "job failed");
  });
  return worker;
}
