import { z } from "zod";

/**
 * The queue contract: every queue's name and its job payload schema. Producers and workers import
 * these; workers safeParse each payload. New payload fields must be optional so in-flight jobs still validate.
 */
export const QUEUES = {
  /** Webhook batches as HubSpot delivered them (≤100 events), verified by the receiver. */
  hubspotEvents: "hubspot-events",
  /** Leads created or changed on the platform, to push to the CRM. */
  crmOutbound: "crm-outbound",
  /** Long-running syncs of an integration: backfills, and reconciliation (a repeatable tick fans out per integration). */
  crmSync: "crm-sync",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const hubspotEventsJobSchema = z.object({
  v: z.literal(1),
  provider: z.literal("hubspot"),
  /** ms epoch when the receiver accepted the batch. */
  receivedAt: z.number().int(),
  /** The raw events (validated by the receiver with core's hubspotEventBatchSchema, re-validated by the worker). */
  events: z.array(z.record(z.string(), z.unknown())).min(1).max(100),
});
export type HubspotEventsJob = z.infer<typeof hubspotEventsJobSchema>;

export const crmOutboundJobSchema = z.object({
  v: z.literal(1),
  integrationId: z.string().uuid(),
  leadId: z.string().uuid(),
  reason: z.enum(["created", "updated"]),
  /** ms epoch of the platform change that caused the job. */
  requestedAt: z.number().int(),
});
export type CrmOutboundJob = z.infer<typeof crmOutboundJobSchema>;

export const crmSyncJobSchema = z.discriminatedUnion("kind", [
  /** Runs (or resumes) the backfill recorded in sync_jobs. */
  z.object({ v: z.literal(1), kind: z.literal("backfill"), integrationId: z.string().uuid(), syncJobId: z.string().uuid() }),
  /** Repairs what lost webhooks left out of date, from the integration's reconciliation cursor. */
  z.object({ v: z.literal(1), kind: z.literal("reconcile"), integrationId: z.string().uuid() }),
  /** The repeatable tick: queues one `reconcile` per integration that takes inbound changes. */
  z.object({ v: z.literal(1), kind: z.literal("reconcile-all") }),
]);
export type CrmSyncJob = z.infer<typeof crmSyncJobSchema>;

export const JOB_SCHEMAS = {
  [QUEUES.hubspotEvents]: hubspotEventsJobSchema,
  [QUEUES.crmOutbound]: crmOutboundJobSchema,
  [QUEUES.crmSync]: crmSyncJobSchema,
} as const;

export type JobPayload<Q extends QueueName> = z.infer<(typeof JOB_SCHEMAS)[Q]>;
