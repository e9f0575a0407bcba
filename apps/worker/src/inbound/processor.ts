import { lineLogger, type Logger } from "@leadsync/config";
import { hubspotEventSchema, parseHubSpotEventBatch, type HubSpotEvent } from "@leadsync/core";
import type { PrismaClient } from "@leadsync/db";
import type { JobProcessor } from "@leadsync/queue";
import type { Coalescer } from "../coalescer.js";
import type { IntegrationDirectory } from "../integrations.js";
import { errorMessage, isFinalAttempt, rethrowForBullMQ } from "../job-failures.js";
import type { InboundItem } from "./types.js";

export interface InboundProcessorDeps {
  prisma: PrismaClient;
  directory: IntegrationDirectory;
  /** Gathers events per portal (groupKey = portal id). */
  batches: Coalescer<InboundItem>;
  logger: Logger;
}

/**
 * The `hubspot-events` processor: validates the events, hands them to their portal's batch and completes
 * when they are applied. On the last attempt the failure is written to the integration's error log.
 */
export function createInboundProcessor({ prisma, directory, batches, logger }: InboundProcessorDeps): JobProcessor<"hubspot-events"> {
  /** For the line per event: ids only. */
  const lines = lineLogger(logger);
  return async (payload, job) => {
    const log = logger.child({ jobId: job.id });
    const events = validEvents(payload.events, log);
    const byPortal = new Map<string, InboundItem[]>();
    const eventLog = lines.child({ jobId: job.id });
    for (const event of events) {
      eventLog.info(
        { portalId: event.portalId, objectId: event.objectId, eventId: event.eventId, type: event.subscriptionType },
        `HubSpot Webhook: ${event.subscriptionType} for contact ${event.objectId}`,
      );
      const items = byPortal.get(event.portalId) ?? [];
      items.push({ event, receivedAt: payload.receivedAt, jobId: job.id ?? "" });
      byPortal.set(event.portalId, items);
    }
    try {
      await Promise.all([...byPortal].map(([portalId, items]) => batches.add(portalId, items)));
    } catch (error) {
      if (isFinalAttempt(job, error)) await recordFailure(byPortal, error);
      return rethrowForBullMQ(job, error);
    }
    return { events: events.length };
  };

  /** The job's events that are HubSpot events: the whole batch at once (core's fast path), else one by one. */
  function validEvents(raw: readonly Record<string, unknown>[], log: Logger): HubSpotEvent[] {
    const batch = parseHubSpotEventBatch(raw);
    if (batch.success) return batch.data;
    const events: HubSpotEvent[] = [];
    for (const candidate of raw) {
      const parsed = hubspotEventSchema.safeParse(candidate);
      if (parsed.success) events.push(parsed.data);
      else log.warn({ issues: parsed.error.issues.slice(0, 3).map((i) => i.message) }, "Dropping an event that is not a HubSpot event");
    }
    return events;
  }

  async function recordFailure(byPortal: Map<string, InboundItem[]>, error: unknown): Promise<void> {
    const message = errorMessage(error);
    for (const [portalId, items] of byPortal) {
      const integration = await directory.findByPortal(portalId).catch(() => null);
      if (!integration) continue;
      const contactIds = [...new Set(items.map((i) => i.event.objectId))];
      await prisma.integrationError
        .createMany({
          data: contactIds.map((externalId) => ({
            integrationId: integration.id,
            code: "inbound_failed",
            externalId,
            message,
            context: { events: items.filter((i) => i.event.objectId === externalId).map((i) => i.event.subscriptionType) },
          })),
        })
        .catch((err: unknown) => logger.error({ err, portalId }, "Could not write the integration error log"));
    }
  }
}
