import calculateSlot from "cluster-key-slot";
import { QUEUES, type QueueName } from "./jobs.js";

/**
 * Where each queue of the contract lives in Redis.
 *
 * Queues whose jobs belong to one CRM account or integration (crm-changes, crm-outbound) have `shards` shards, and
 * two lanes per shard: "normal", and "bulk" for an account that is sending far more than the others right now
 * (core's BusyAccounts decides), so one tenant's burst queues behind itself, not in front of everyone else's work.
 * A job's shard is a hash of its account (or integration), so an account stays on one shard.
 *
 * With one shard, names and prefix are the configured ones: every queue shares the prefix's hash tag (`{leadsync}`)
 * and so one Redis Cluster slot. With more, each shard carries its own hash tag in its name (`crm-changes-{s3-…}`,
 * the prefix's braces dropped), chosen so that the shards' slots are spread evenly over the 16,384 — and so over a
 * cluster's masters, which `redis-cli --cluster create` gives equal ranges of slots.
 */
export type Lane = "normal" | "bulk";
export const LANES: readonly Lane[] = ["normal", "bulk"];

const SLOTS = 16_384;
const SHARDED: ReadonlySet<QueueName> = new Set([QUEUES.crmChanges, QUEUES.crmOutbound]);

export interface PhysicalQueue {
  /** The BullMQ queue name. */
  name: string;
  shard: number;
  lane: Lane;
}

export interface QueueLayoutOptions {
  /** QUEUE_PREFIX. */
  prefix: string;
  /** QUEUE_SHARDS. */
  shards: number;
}

export class QueueLayout {
  /** The BullMQ prefix of every queue. */
  readonly prefix: string;
  readonly shards: number;
  private readonly tags: readonly string[];

  constructor(options: QueueLayoutOptions) {
    if (!Number.isInteger(options.shards) || options.shards < 1) throw new Error(`queue shards must be a positive integer, got ${options.shards}`);
    this.shards = options.shards;
    // A hash tag in the prefix would put every shard into the prefix's slot: the shards carry the tags instead.
    this.prefix = this.shards === 1 ? options.prefix : options.prefix.replace(/[{}]/g, "");
    this.tags = Array.from({ length: this.shards }, (_, shard) => shardTag(shard, this.shards));
  }

  /** Every BullMQ queue of a contract queue (what workers consume and dashboards show). */
  queuesOf(name: QueueName): PhysicalQueue[] {
    if (!SHARDED.has(name)) return [{ name: this.physicalName(name, 0, "normal"), shard: 0, lane: "normal" }];
    return LANES.flatMap((lane) => this.tags.map((_, shard) => ({ name: this.physicalName(name, shard, lane), shard, lane })));
  }

  /** The BullMQ queue for a job of `routingKey` (its CRM account, or its integration) in `lane`. */
  route(name: QueueName, routingKey: string, lane: Lane = "normal"): string {
    if (!SHARDED.has(name)) return this.physicalName(name, 0, "normal");
    return this.physicalName(name, this.shardOf(routingKey), lane);
  }

  /** A stable shard for a routing key: CRC16 like Redis' own slots, so it never depends on the process. */
  shardOf(routingKey: string): number {
    return this.shards === 1 ? 0 : calculateSlot(routingKey.replace(/[{}]/g, "")) % this.shards;
  }

  private physicalName(name: QueueName, shard: number, lane: Lane): string {
    const laned = lane === "bulk" ? `${name}-bulk` : name;
    return this.shards === 1 ? laned : `${laned}-{${this.tags[shard]}}`;
  }
}

/** The first tag `s<shard>-<n>` whose slot falls into the shard's equal part of the slot space. */
function shardTag(shard: number, shards: number): string {
  const from = Math.floor((shard * SLOTS) / shards);
  const to = Math.floor(((shard + 1) * SLOTS) / shards);
  for (let n = 0; ; n++) {
    const tag = `s${shard}-${n}`;
    const slot = calculateSlot(tag);
    if (slot >= from && slot < to) return tag;
  }
}

/** The layout the configuration asks for (QUEUE_PREFIX, QUEUE_SHARDS). */
export function layoutFromConfig(config: { queuePrefix: string; queueShards: number }): QueueLayout {
  return new QueueLayout({ prefix: config.queuePrefix, shards: config.queueShards });
}
