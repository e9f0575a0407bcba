import { Queue, type DefaultJobOptions, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { JOB_SCHEMAS, type JobPayload, type QueueName } from "./jobs.js";
import { DEFAULT_JOB_OPTIONS } from "./job-options.js";
import { defaultQueueLogger, type QueueLogger } from "./logger.js";

/** A BullMQ queue whose job name and payload are fixed by the queue contract (jobs.ts). */
export type TypedQueue<Q extends QueueName> = Queue<JobPayload<Q>, unknown, Q>;

export interface CreateQueueOptions {
  /** A producer connection (`createRedisConnection(url, { role: "producer" })`); shared, never closed by the queue. */
  connection: Redis;
  /** BullMQ key prefix, from config (`{leadsync}`: a Redis Cluster hash tag). */
  prefix: string;
  logger?: QueueLogger;
  /** Overrides for this queue, merged over DEFAULT_JOB_OPTIONS. */
  defaultJobOptions?: DefaultJobOptions;
}

export function createQueue<Q extends QueueName>(name: Q, options: CreateQueueOptions): TypedQueue<Q> {
  const logger = options.logger ?? defaultQueueLogger;
  const queue: TypedQueue<Q> = new Queue<JobPayload<Q>, unknown, Q>(name, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, ...options.defaultJobOptions },
  });
  // Without a listener an 'error' event would crash the process; Redis outages are expected and retried.
  queue.on("error", (err) => logger.error({ err, queue: name }, "queue error"));
  return queue;
}

/**
 * Adds one job after checking its payload against the contract, so a producer bug fails at the producer
 * rather than as an UnrecoverableError in a worker. The job name is the queue name.
 */
export async function enqueue<Q extends QueueName>(queue: TypedQueue<Q>, payload: JobPayload<Q>, options?: JobsOptions) {
  const name = queue.name as Q;
  const data = JOB_SCHEMAS[name].parse(payload) as JobPayload<Q>;
  // BullMQ's generic add() cannot relate Q to the job name type here; the payload was just validated.
  return queue.add(name as Parameters<TypedQueue<Q>["add"]>[0], data as Parameters<TypedQueue<Q>["add"]>[1], options);
}

/** BullMQ custom job ids may not contain ":" (its key separator) nor be plain integers. */
export function isValidJobId(id: string): boolean {
  return id.length > 0 && !id.includes(":") && !/^\d+$/.test(id);
}
