import { BusyAccounts } from "@leadsync/core";
import type { DefaultJobOptions } from "bullmq";
import type { RedisClient } from "./connection.js";
import type { QueueName } from "./jobs.js";
import { QueueLayout, type Lane } from "./layout.js";
import type { QueueLogger } from "./logger.js";
import { createQueue, type TypedQueue } from "./queues.js";

/**
 * A contract queue as producers see it: every BullMQ queue of its shards and lanes, and the one a job goes to.
 * A single TypedQueue (tests, tools) is a group whose every route leads to it.
 */
export interface QueueGroup<Q extends QueueName> {
  readonly contractName: Q;
  readonly layout: QueueLayout;
  /** Every BullMQ queue of the contract queue: dashboards, metrics, replay, closing. */
  readonly queues: readonly TypedQueue<Q>[];
  /** The queue for a job of `routingKey` (its CRM account as `provider:accountId`, or its integration id). */
  route(routingKey: string, lane?: Lane): TypedQueue<Q>;
  /**
   * The queue for `units` of work (events, leads) of `routingKey`, counted towards its recent volume: the bulk lane
   * while the key sends far more than a tenant usually does (core's BusyAccounts), else the normal one.
   */
  routeWork(routingKey: string, units: number): TypedQueue<Q>;
}

export interface CreateQueueGroupOptions {
  connection: RedisClient;
  layout: QueueLayout;
  logger?: QueueLogger;
  defaultJobOptions?: DefaultJobOptions;
}

export function createQueueGroup<Q extends QueueName>(name: Q, options: CreateQueueGroupOptions): QueueGroup<Q> {
  const { layout } = options;
  const byName = new Map(
    layout.queuesOf(name).map((physical) => [
      physical.name,
      createQueue(name, {
        connection: options.connection,
        prefix: layout.prefix,
        queueName: physical.name,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        ...(options.defaultJobOptions === undefined ? {} : { defaultJobOptions: options.defaultJobOptions }),
      }),
    ]),
  );
  const busy = new BusyAccounts();
  const route = (routingKey: string, lane?: Lane) => byName.get(layout.route(name, routingKey, lane)) as TypedQueue<Q>;
  return {
    contractName: name,
    layout,
    queues: [...byName.values()],
    route,
    routeWork: (routingKey, units) => route(routingKey, busy.laneFor(routingKey, units)),
  };
}

/** The queue of a contract queue that has neither shards nor lanes (crm-sync). */
export function openQueue<Q extends QueueName>(name: Q, options: CreateQueueGroupOptions): TypedQueue<Q> {
  return createQueueGroup(name, options).route("");
}

/** A group of one queue (what tests and tools that open one queue pass): every route leads to it. */
export function singleQueueGroup<Q extends QueueName>(queue: TypedQueue<Q>): QueueGroup<Q> {
  const layout = new QueueLayout({ prefix: queue.opts.prefix ?? "bull", shards: 1 });
  return { contractName: queue.contractName, layout, queues: [queue], route: () => queue, routeWork: () => queue };
}

/** Producers accept either; this is the one place that tells them apart. */
export function asQueueGroup<Q extends QueueName>(queue: TypedQueue<Q> | QueueGroup<Q>): QueueGroup<Q> {
  return "queues" in queue ? queue : singleQueueGroup(queue);
}
