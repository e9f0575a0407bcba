import { z } from "zod";

/**
 * What the Salesforce emulator keeps across restarts when started with a `snapshotPath` (emulator-kit's snapshot
 * file): the connected app's consumer key and secret, every org (users, Leads and Contacts, custom fields, settings,
 * CDC channel members), its event bus (the retained change events, their schemas, and the replay-id position, so a
 * subscriber resumes from its stored replay id as on Salesforce), the sessions and refresh tokens, the id counter.
 * Not kept: API usage and call counters, in-flight requests, faults, authorization codes (minutes-long), query cursors.
 */
export const SALESFORCE_SNAPSHOT = { emulator: "salesforce-sandbox", version: 1 } as const;

const fieldValue = z.union([z.string(), z.boolean(), z.null()]);
const record = z.record(z.string(), fieldValue);
/** bigints are stored as decimal strings */
const bigintString = z.string().regex(/^\d+$/).transform((value) => BigInt(value));

const changeEventSchema = z.object({
  replayId: bigintString,
  schemaId: z.string(),
  entityName: z.string(),
  changeType: z.enum(["CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW"]),
  recordIds: z.array(z.string()),
  changeOrigin: z.string(),
  transactionKey: z.string(),
  sequenceNumber: z.number().int(),
  commitTimestamp: z.number(),
  commitNumber: z.number(),
  commitUser: z.string(),
  changedFields: z.array(z.string()),
  nulledFields: z.array(z.string()),
  diffFields: z.array(z.string()),
  fields: z.record(z.string(), fieldValue),
});

export const changeLogSnapshotSchema = z.object({
  events: z.array(changeEventSchema),
  nextReplay: bigintString,
  replayFloor: bigintString,
  commitNumber: z.number(),
  dropped: z.number().int(),
});
export type ChangeLogSnapshot = z.input<typeof changeLogSnapshotSchema>;

const customFieldMetadata = z.object({
  label: z.string().optional(),
  type: z.string().optional(),
  length: z.number().optional(),
  externalId: z.boolean().optional(),
  unique: z.boolean().optional(),
  required: z.boolean().optional(),
});

export const orgSnapshotSchema = z.object({
  orgId: z.string(),
  apiUserId: z.string(),
  uiUserId: z.string(),
  username: z.string(),
  settings: z.object({
    duplicateRule: z.boolean(),
    customizeApplication: z.boolean(),
    cdcEntities: z.array(z.string()),
    collectionsCallOptions: z.boolean(),
    dailyApiRequests: z.number(),
    concurrentLongRunningLimit: z.number(),
    dailyDeliveredEvents: z.number(),
  }),
  /** in creation order: the Lead field list (and the CDC schema) is rebuilt from them */
  customFields: z.array(z.tuple([z.string(), z.object({ id: z.string(), fullName: z.string(), metadata: customFieldMetadata })])),
  channelMemberIds: z.array(z.tuple([z.string(), z.string()])),
  leads: z.array(record),
  contacts: z.array(record),
  changeLog: changeLogSnapshotSchema,
});

export const salesforceSnapshotSchema = z.object({
  app: z.object({ clientId: z.string(), clientSecret: z.string() }),
  counter: z.number().int(),
  orgs: z.array(orgSnapshotSchema),
  accessTokens: z.array(z.tuple([z.string(), z.object({ orgId: z.string(), userId: z.string(), expiresAt: z.number(), refreshToken: z.string().optional() })])),
  refreshTokens: z.array(z.tuple([z.string(), z.object({ orgId: z.string(), userId: z.string() })])),
  /** the Avro JSON of every schema events were written with (a custom field added later changes the current one) */
  schemas: z.array(z.string()),
});
/** As parsed (bigints restored). */
export type SalesforceSnapshot = z.output<typeof salesforceSnapshotSchema>;
/** As written. */
export type SalesforceSnapshotJson = z.input<typeof salesforceSnapshotSchema>;
