import { Job, Queue, type DefaultJobOptions, type JobJson, type JobsOptions } from "bullmq";
import type { RedisClient } from "./connection.js";
import { JOB_SCHEMAS, type JobPayload, type QueueName } from "./jobs.js";
import { DEFAULT_JOB_OPTIONS } from "./job-options.js";
import { defaultQueueLogger, type QueueLogger } from "./logger.js";

/**
 * A BullMQ queue whose job name and payload are fixed by the queue contract (jobs.ts). `contractName` is the
 * contract's queue (and every job's name); `name` is the BullMQ queue, one shard or lane of it (layout.ts).
 */
export type TypedQueue<Q extends QueueName> = Queue<JobPayload<Q>, unknown, Q> & { readonly contractName: Q };

export interface CreateQueueOptions {
  /** A producer connection (`createRedisConnection(url, { role: "producer" })`); shared, never closed by the queue. */
  connection: RedisClient;
  /** BullMQ key prefix, from config (`{leadsync}`: a Redis Cluster hash tag), or a QueueLayout's. */
  prefix: string;
  /** The BullMQ queue: one shard or lane of the contract queue (QueueLayout). Default: the contract queue's name. */
  queueName?: string;
  logger?: QueueLogger;
  /** Overrides for this queue, merged over DEFAULT_JOB_OPTIONS. */
  defaultJobOptions?: DefaultJobOptions;
}

/** The JSON text of payloads being added through `addSerialized`, for PreSerializedJob to store instead of stringifying. */
const serializedPayloads = new WeakMap<object, string | Buffer>();

/** A BullMQ job that stores a payload's known JSON text (if any) instead of JSON.stringify-ing the payload again. */
class PreSerializedJob<D = unknown, R = unknown, N extends string = string> extends Job<D, R, N> {
  override asJSON(): JobJson {
    const json = typeof this.data === "object" && this.data !== null ? serializedPayloads.get(this.data) : undefined;
    if (json === undefined) return super.asJSON();
    const data = this.data;
    // BullMQ stringifies `{}` for an undefined payload: cheap, and replaced right after.
    this.data = undefined as D;
    try {
      // ioredis sends a Buffer argument as is; JobJson types data as the string it usually is.
      return { ...super.asJSON(), data: json as string };
    } finally {
      this.data = data;
    }
  }
}

class ContractQueue<D, R, N extends string> extends Queue<D, R, N> {
  constructor(
    readonly contractName: N,
    ...args: ConstructorParameters<typeof Queue<D, R, N>>
  ) {
    super(...args);
  }

  protected override get Job(): typeof Job {
    return PreSerializedJob;
  }
}

export function createQueue<Q extends QueueName>(name: Q, options: CreateQueueOptions): TypedQueue<Q> {
  const logger = options.logger ?? defaultQueueLogger;
  const queue: TypedQueue<Q> = new ContractQueue<JobPayload<Q>, unknown, Q>(name, options.queueName ?? name, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, ...options.defaultJobOptions },
  });
  // Without a listener an 'error' event would crash the process; Redis outages are expected and retried.
  queue.on("error", (err) => logger.error({ err, queue: queue.name }, "queue error"));
  return queue;
}

/**
 * Adds one job after checking its payload against the contract, so a producer bug fails at the producer
 * rather than as an UnrecoverableError in a worker. The job name is the queue name.
 */
export async function enqueue<Q extends QueueName>(queue: TypedQueue<Q>, payload: JobPayload<Q>, options?: JobsOptions) {
  const name = queue.contractName;
  const data = JOB_SCHEMAS[name].parse(payload) as JobPayload<Q>;
  // BullMQ's generic add() cannot relate Q to the job name type here; the payload was just validated.
  return queue.add(name as Parameters<TypedQueue<Q>["add"]>[0], data as Parameters<TypedQueue<Q>["add"]>[1], options);
}

/**
 * `queue.add` for a payload whose JSON the caller already holds, as text or UTF-8 bytes (the receiver: around the
 * webhook body it verified, ~24 KB), so it is stored as is rather than stringified again. `json` must parse to
 * `payload` — the caller checked the payload, as `queue.add`'s callers do; the worker reads `json`. Only for queues
 * made by `createQueue`.
 */
export async function addSerialized<Q extends QueueName>(
  queue: TypedQueue<Q>,
  payload: JobPayload<Q>,
  json: string | Buffer,
  options?: JobsOptions,
) {
  serializedPayloads.set(payload, json);
  try {
    return await queue.add(queue.contractName as Parameters<TypedQueue<Q>["add"]>[0], payload as Parameters<TypedQueue<Q>["add"]>[1], options);
  } finally {
    serializedPayloads.delete(payload);
  }
}

/** BullMQ custom job ids may not contain ":" (its key separator) nor be plain integers. */
export function isValidJobId(id: string): boolean {
  return id.length > 0 && !id.includes(":") && !/^\d+$/.test(id);
}
