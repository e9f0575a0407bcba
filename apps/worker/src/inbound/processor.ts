import { lineLogger, type Config, type Logger } from "@leadsync/config";
import type { RecordChange } from "@leadsync/core";
import type { PrismaClient } from "@leadsync/db";
import { findProviderModule, providerEnvironment } from "@leadsync/providers";
import type { JobProcessor } from "@leadsync/queue";
import type { Coalescer } from "../coalescer.js";
import type { IntegrationDirectory } from "../integrations.js";
import { errorMessage, isFinalAttempt, rethrowForBullMQ } from "../job-failures.js";
import { accountKeyOf, type InboundItem } from "./types.js";

export interface InboundProcessorDeps {
  config: Config;
  prisma: PrismaClient;
  directory: IntegrationDirectory;
  /** Gathers changes per CRM account (groupKey = accountKeyOf). */
  batches: Coalescer<InboundItem>;
  logger: Logger;
}

/**
 * The `crm-changes` processor: turns the job's feed events into record changes (the provider's parseChanges; a
 * pulled feed queued them neutral already), hands them to their account's batch and completes when they are
 * applied. On the last attempt the failure is written to the integration's error log.
 */
export function createInboundProcessor({ config, prisma, directory, batches, logger }: InboundProcessorDeps): JobProcessor<"crm-changes"> {
  /** For the line per change: ids only. */
  const lines = lineLogger(logger);
  return async (payload, job) => {
    const module = findProviderModule(payload.provider);
    if (!module) {
      logger.warn({ jobId: job.id, provider: payload.provider }, `Dropping a job of unknown provider ${payload.provider}`);
      return { events: 0 };
    }
    // The job schema is RecordChange (zod leaves absent optionals undefined, which exactOptionalPropertyTypes tells apart).
    const changes: RecordChange[] = (payload.changes as RecordChange[] | undefined) ?? module.parseChanges(payload.events ?? [], { env: providerEnvironment(config, module.name) });
    const byAccount = new Map<string, InboundItem[]>();
    const changeLog = lines.child({ jobId: job.id });
    for (const change of changes) {
      changeLog.info(
        { provider: change.provider, accountId: change.accountId, objectId: change.recordId, eventId: change.eventId, type: change.type },
        `${module.displayName} Webhook: ${change.type} for contact ${change.recordId}`,
      );
      const key = accountKeyOf(change);
      const items = byAccount.get(key) ?? [];
      items.push({ change, receivedAt: payload.receivedAt, jobId: job.id ?? "" });
      byAccount.set(key, items);
    }
    try {
      await Promise.all([...byAccount].map(([key, items]) => batches.add(key, items)));
    } catch (error) {
      if (isFinalAttempt(job, error)) await recordFailure(byAccount, error);
      return rethrowForBullMQ(job, error);
    }
    return { events: changes.length };
  };

  async function recordFailure(byAccount: Map<string, InboundItem[]>, error: unknown): Promise<void> {
    const message = errorMessage(error);
    for (const items of byAccount.values()) {
      const first = items[0]?.change;
      if (!first) continue;
      const integration = await directory.findByAccount(first.provider, first.accountId).catch(() => null);
      if (!integration) continue;
      const recordIds = [...new Set(items.map((i) => i.change.recordId))];
      await prisma.integrationError
        .createMany({
          data: recordIds.map((externalId) => ({
            integrationId: integration.id,
            code: "inbound_failed",
            externalId,
            message,
            context: { events: items.filter((i) => i.change.recordId === externalId).map((i) => i.change.type) },
          })),
        })
        .catch((err: unknown) => logger.error({ err, accountId: first.accountId }, "Could not write the integration error log"));
    }
  }
}
