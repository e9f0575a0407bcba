import { createHash, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Config, Logger } from "@leadsync/config";
import type { RecordChange } from "@leadsync/core";
import type { PrismaClient } from "@leadsync/db";
import { pulledFeedProviders } from "@leadsync/providers";
import { QUEUES, createQueueGroup, layoutFromConfig, openQueue, type QueueGroup, type RedisClient, type TypedQueue } from "@leadsync/queue";
import type { Integration, IntegrationDirectory } from "../integrations.js";
import { queueReconciliation } from "../reconcile/sync-worker.js";

/**
 * Pulled change feeds (Salesforce Change Data Capture over Pub/Sub): exactly one subscription per integration across
 * every worker process. A process holds an integration's feed while it holds its RedisClient lease (SET NX PX, renewed
 * every scan); when a process dies its lease lapses and another one subscribes, resuming from the stored checkpoint.
 * Events are queued on `crm-changes` (durable) before the checkpoint moves past them, so a crash loses nothing; a
 * crash between the two re-delivers a batch, which the job id and the event claims make a no-op.
 */

export interface PulledFeedsDeps {
  config: Config;
  prisma: PrismaClient;
  connection: RedisClient;
  directory: IntegrationDirectory;
  logger: Logger;
}

/** A lease outlives a few missed scans, so a busy event loop does not hand the feed over needlessly. */
const LEASE_SCANS = 3;

// Renews or releases the lease only if this process still holds it.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

interface HeldFeed {
  integrationId: string;
  close(): Promise<void>;
}

export interface RunningPulledFeeds {
  /** Integrations this process subscribes to now. */
  held(): string[];
  close(): Promise<void>;
}

export function startPulledFeeds({ config, prisma, connection, directory, logger }: PulledFeedsDeps): RunningPulledFeeds {
  const providers = pulledFeedProviders().map((module) => module.name);
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = config.feedLeaseIntervalMs * LEASE_SCANS;
  const log = logger.child({ component: "pulled-feeds" });
  const held = new Map<string, HeldFeed>();
  const starting = new Set<string>();
  let changes: QueueGroup<typeof QUEUES.crmChanges> | undefined;
  let sync: TypedQueue<typeof QUEUES.crmSync> | undefined;
  let stopped = false;

  const leaseKey = (integrationId: string) => `${config.queuePrefix}:feed-lease:${integrationId}`;

  async function scan(): Promise<void> {
    if (stopped || providers.length === 0) return;
    const wanted = await prisma.crmIntegration.findMany({
      where: { provider: { in: providers as Integration["provider"][] }, status: "active", webhooksEnabled: true, syncDirection: { not: "to_crm" } },
    });
    const wantedIds = new Set(wanted.map((i) => i.id));
    // Feeds no longer wanted (turned off, paused, deleted), or whose lease another process now holds, are closed.
    for (const [id, feed] of held) {
      const renewed = wantedIds.has(id) ? await connection.eval(RENEW, 1, leaseKey(id), owner, String(leaseMs)) : 0;
      if (renewed !== 1) await stop(feed, wantedIds.has(id) ? "lease lost" : "feed no longer wanted");
    }
    for (const integration of wanted) {
      if (held.has(integration.id) || starting.has(integration.id) || stopped) continue;
      const acquired = await connection.set(leaseKey(integration.id), owner, "PX", leaseMs, "NX");
      if (acquired === "OK") await subscribe(integration);
    }
  }

  async function subscribe(integration: Integration): Promise<void> {
    const module = directory.moduleOf(integration);
    const feed = module.pulledFeed;
    if (!feed) return;
    starting.add(integration.id);
    const feedLog = log.child({ integrationId: integration.id, provider: module.name });
    try {
      const stored = await prisma.feedCheckpoint.findUnique({ where: { integrationId: integration.id } });
      const subscription = await feed.start(directory.clients.contextFor(integration), {
        resumeFrom: stored?.checkpoint ?? null,
        deliver: (batch, checkpoint) => deliver(integration, batch, checkpoint),
        onGap: (reason) => {
          feedLog.warn({ reason }, `${module.displayName} feed resumed past a gap - reconciling`);
          void queueReconcile(integration.id).catch((err: unknown) => feedLog.error({ err }, "Could not queue the reconciliation of a feed gap"));
        },
        onError: (error) => {
          feedLog.error({ err: error }, `${module.displayName} feed failed - it is subscribed again on the next scan`);
          const current = held.get(integration.id);
          if (current) void stop(current, "feed error");
        },
      });
      held.set(integration.id, { integrationId: integration.id, close: () => subscription.close() });
      feedLog.info({ resumeFrom: stored?.checkpoint ? "checkpoint" : "latest", owner }, `${module.displayName} feed subscribed`);
      // A first subscription starts at the feed's newest event: what changed between enabling the feed and now is
      // reconciled (from the integration's reconciliation cursor), so nothing before the first event is missed.
      if (!stored) await queueReconcile(integration.id);
    } catch (error) {
      feedLog.error({ err: error }, `Could not subscribe to the ${module.displayName} feed`);
      await connection.eval(RELEASE, 1, leaseKey(integration.id), owner).catch(() => undefined);
    } finally {
      starting.delete(integration.id);
    }
  }

  /** Queues the changes durably, then moves the checkpoint past them. */
  async function deliver(integration: Integration, batch: RecordChange[], checkpoint: string): Promise<void> {
    if (batch.length > 0) {
      changes ??= createQueueGroup(QUEUES.crmChanges, { connection, layout: layoutFromConfig(config), logger: log });
      const jobId = `${integration.provider}-${createHash("sha256").update(`${integration.id}\u001f${checkpoint}`).digest("hex")}`;
      // Routed like a pushed feed's delivery: the account's shard, its bulk lane while it sends a burst.
      await changes.routeWork(`${integration.provider}:${integration.externalAccountId}`, batch.length).add(
        QUEUES.crmChanges,
        { v: 1, provider: integration.provider, receivedAt: Date.now(), accounts: [integration.externalAccountId], changes: batch },
        { jobId },
      );
    }
    await prisma.feedCheckpoint.upsert({
      where: { integrationId: integration.id },
      create: { integrationId: integration.id, checkpoint },
      update: { checkpoint },
    });
  }

  async function queueReconcile(integrationId: string): Promise<void> {
    sync ??= openQueue(QUEUES.crmSync, { connection, layout: layoutFromConfig(config), logger: log });
    await queueReconciliation(sync, integrationId);
  }

  async function stop(feed: HeldFeed, reason: string): Promise<void> {
    held.delete(feed.integrationId);
    await feed.close().catch((err: unknown) => log.warn({ err, integrationId: feed.integrationId }, "Closing a feed failed"));
    await connection.eval(RELEASE, 1, leaseKey(feed.integrationId), owner).catch(() => undefined);
    log.info({ integrationId: feed.integrationId, reason }, "Feed closed");
  }

  let scanning: Promise<void> = Promise.resolve();
  const tick = () => {
    scanning = scanning.then(scan).catch((err: unknown) => log.error({ err }, "Pulled-feed scan failed"));
  };
  tick();
  const timer = setInterval(tick, config.feedLeaseIntervalMs);
  timer.unref();

  return {
    held: () => [...held.keys()],
    async close() {
      stopped = true;
      clearInterval(timer);
      await scanning;
      await Promise.all([...held.values()].map((feed) => stop(feed, "shutting down")));
      await Promise.all([...(changes?.queues ?? []).map((queue) => queue.close()), sync?.close()]);
    },
  };
}
