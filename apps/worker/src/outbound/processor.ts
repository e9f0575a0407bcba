import type { Logger } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import type { JobProcessor } from "@leadsync/queue";
import { UnrecoverableError } from "bullmq";
import type { Coalescer } from "../coalescer.js";
import { errorMessage, isFinalAttempt, rethrowForBullMQ } from "../job-failures.js";
import type { OutboundItem } from "./handle-batch.js";

export interface OutboundProcessorDeps {
  prisma: PrismaClient;
  /** Gathers leads per integration (groupKey = integration id). */
  batches: Coalescer<OutboundItem>;
  logger: Logger;
}

/** The `crm-outbound` processor: hands the lead to its integration's batch and completes when it was pushed. */
export function createOutboundProcessor({ prisma, batches, logger }: OutboundProcessorDeps): JobProcessor<"crm-outbound"> {
  return async (payload, job) => {
    try {
      await batches.add(payload.integrationId, [{ leadId: payload.leadId, jobId: job.id ?? "" }]);
    } catch (error) {
      // Permanent rejections were logged to the integration by the batch; a retryable failure is logged once it is final.
      if (!(error instanceof UnrecoverableError) && isFinalAttempt(job, error)) {
        await prisma.integrationError
          .create({ data: { integrationId: payload.integrationId, code: "outbound_failed", leadId: payload.leadId, message: errorMessage(error) } })
          .catch((err: unknown) => logger.error({ err, jobId: job.id }, "Could not write the integration error log"));
      }
      return rethrowForBullMQ(job, error);
    }
    return { leadId: payload.leadId };
  };
}
