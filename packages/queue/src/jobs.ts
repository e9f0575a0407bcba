import { z } from "zod";

/**
 * The queue contract: every queue's name and its job payload schema. Producers and workers import
 * these; workers safeParse each payload. New payload fields must be optional so in-flight jobs still validate.
 */
export const QUEUES = {
  /** Webhook batches as HubSpot delivered them (≤100 events), verified by the receiver. */
  crmChanges: "crm-changes",
  /** Leads created or changed on the platform, to push to the CRM. */
  crmOutbound: "crm-outbound",
  /** Long-running syncs of an integration: backfills, and reconciliation (a repeatable tick fans out per integration). */
  crmSync: "crm-sync",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** One provider-neutral record change (core's RecordChange), as a pulled feed queues it. */
export const recordChangeSchema = z.object({
  provider: z.string().min(1).max(40),
  accountId: z.string().min(1).max(200),
  recordId: z.string().min(1).max(200),
  kind: z.enum(["create", "update", "delete", "restore", "merge", "privacy_delete", "unsupported"]),
  type: z.string().min(1).max(100),
  fields: z.record(z.string(), z.string().nullable()).optional(),
  record: z
    .object({
      id: z.string(),
      properties: z.record(z.string(), z.string().nullable()),
      updatedAt: z.number(),
      archived: z.boolean().optional(),
    })
    .optional(),
  origin: z.enum(["self", "other", "unknown"]),
  occurredAt: z.number().int().nonnegative(),
  eventId: z.string().max(500),
  mergedIds: z.array(z.string()).max(1000).optional(),
  identity: z.string().min(1).max(10_000),
});

/**
 * A provider's change feed, one job per delivery: either the raw events as a pushed feed delivered them (a HubSpot
 * webhook batch, a Zoho callback, a Pipedrive payload — verified by the receiver, turned into changes by the
 * provider's `parseChanges` in the worker), or changes a pulled feed (Salesforce CDC) already turned neutral.
 */
export const crmChangesJobSchema = z
  .object({
    v: z.literal(1),
    provider: z.string().min(1).max(40),
    /** ms epoch when the receiver (or the feed subscriber) accepted the delivery. */
    receivedAt: z.number().int(),
    /** The CRM accounts the delivery names (replay by integration, logs); optional for jobs queued before it existed. */
    accounts: z.array(z.string()).max(1000).optional(),
    events: z.array(z.record(z.string(), z.unknown())).min(1).max(1000).optional(),
    changes: z.array(recordChangeSchema).min(1).max(1000).optional(),
  })
  .refine((job) => (job.events === undefined) !== (job.changes === undefined), { message: "a job carries either events or changes" });
export type CrmChangesJob = z.infer<typeof crmChangesJobSchema>;

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
  /** Keeps one integration's feed and tokens alive: renews an expiring feed (Zoho channels), refreshes idle OAuth tokens. */
  z.object({ v: z.literal(1), kind: z.literal("maintain"), integrationId: z.string().uuid() }),
  /** The repeatable tick: queues one `maintain` per integration with a feed to renew or OAuth tokens. */
  z.object({ v: z.literal(1), kind: z.literal("maintain-all") }),
  /** The repeatable pruning of old event claims, unlinked records, finished backfills and error rows (RETENTION_DAYS). */
  z.object({ v: z.literal(1), kind: z.literal("prune") }),
]);
export type CrmSyncJob = z.infer<typeof crmSyncJobSchema>;

export const JOB_SCHEMAS = {
  [QUEUES.crmChanges]: crmChangesJobSchema,
  [QUEUES.crmOutbound]: crmOutboundJobSchema,
  [QUEUES.crmSync]: crmSyncJobSchema,
} as const;

export type JobPayload<Q extends QueueName> = z.infer<(typeof JOB_SCHEMAS)[Q]>;
