import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { createInboundBatchHandler } from "../../apps/worker/src/inbound/handle-batch.js";
import type { InboundItem } from "../../apps/worker/src/inbound/types.js";
import { createIntegrationDirectory } from "../../apps/worker/src/integrations.js";
import { createLogger } from "../../packages/config/src/index.js";
import type { PrismaClient } from "../../packages/db/src/index.js";
import { createExplainingPrisma, createTimedPrisma, type CapturedPlan } from "../../packages/db/src/testing.js";
import { findProviderModule, providerEnvironment } from "../../packages/providers/src/index.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { onCleanup } from "./cleanup.js";
import { hubspotEvent, type BenchEnvironment } from "./environment.js";

/**
 * The worker's inbound batch path (createInboundBatchHandler: the prefilter read, the HubSpot batch reads, one
 * transaction of lock, claims, inserts, updates and counters), run in the bench process on batches it builds, so
 * each batch is timed alone: no queue, no coalescing window. One handler times batches (its Prisma client reports
 * each statement's duration: the DB time), a second one runs a batch with every statement explained.
 */

export interface BatchContacts {
  /** Sandbox contacts linked to seeded leads: one firstname change each. */
  updates: readonly { contactId: string; firstname: string }[];
  /** Sandbox contacts no lead has yet: one creation each. */
  creates: readonly string[];
}

export interface BatchTiming {
  ms: number;
  dbMs: number;
  statements: number;
}

export interface InboundRunner {
  run(batch: BatchContacts): Promise<BatchTiming>;
  /** Runs the batch with auto_explain on every statement; returns the plans (its timing is not a measurement). */
  explain(batch: BatchContacts): Promise<CapturedPlan[]>;
}

export function createInboundRunner(env: BenchEnvironment): InboundRunner {
  const log = createWriteStream(join(env.logDir, "inbound-handler.log"));
  // The worker's own log level and lines, into a file as the worker's go to its log.
  const logger = createLogger({ name: "bench-growth-inbound", level: "info", pretty: false, destination: log });
  const connection = createRedisConnection(env.config.redisUrl, { role: "worker" });
  const timed = createTimedPrisma(env.db.url);
  const explaining = createExplainingPrisma(env.db.url);
  onCleanup("inbound runner", async () => {
    await timed.prisma.$disconnect();
    await explaining.close();
    connection.disconnect();
    log.end();
  });
  const handlerOn = (prisma: PrismaClient) =>
    createInboundBatchHandler({ config: env.config, prisma, directory: createIntegrationDirectory({ config: env.config, prisma, connection, logger }), logger });
  const timedHandler = handlerOn(timed.prisma);
  const explainingHandler = handlerOn(explaining.prisma);
  const module = findProviderModule("hubspot");
  if (!module) throw new Error("no hubspot provider module");
  let eventId = 1_000_000;

  function items(batch: BatchContacts): InboundItem[] {
    const portalId = env.portal.portalId;
    const occurredAt = Date.now();
    const events = [
      ...batch.updates.map(({ contactId, firstname }) =>
        hubspotEvent({ portalId, objectId: contactId, subscriptionType: "contact.propertyChange", propertyName: "firstname", propertyValue: firstname, eventId: eventId++, occurredAt }),
      ),
      ...batch.creates.map((contactId) => hubspotEvent({ portalId, objectId: contactId, subscriptionType: "contact.creation", eventId: eventId++, occurredAt })),
    ];
    const changes = module!.parseChanges(events, { env: providerEnvironment(env.config, "hubspot") });
    return changes.map((change) => ({ change, receivedAt: Date.now(), jobId: "bench-growth" }));
  }

  return {
    async run(batch) {
      const batchItems = items(batch);
      timed.take();
      const started = performance.now();
      await timedHandler(`hubspot:${env.portal.portalId}`, batchItems);
      const ms = performance.now() - started;
      const db = timed.take();
      return { ms, dbMs: db.ms, statements: db.statements };
    },
    async explain(batch) {
      const batchItems = items(batch);
      explaining.take();
      await explainingHandler(`hubspot:${env.portal.portalId}`, batchItems);
      return explaining.take();
    },
  };
}
