import type { PrismaClient } from "../../packages/db/src/index.js";
import type { LeadFieldsInput, RecordView } from "./harness.js";

/**
 * How the shared provider suite speaks to one CRM emulator: start it, and express lead fields in that CRM's own
 * record bodies (a Salesforce Lead, a Zoho Leads record, a Pipedrive person). One kit per provider.
 */
export interface ProviderKit {
  /** The provider's name (the integration's `provider`, the lead's `source`). */
  name: string;
  start(options: { webhookBaseUrl: string }): Promise<RunningEmulator>;
  /** The CRM's create body for one record (the admin route's `records[]` element). */
  createBody(fields: LeadFieldsInput): Record<string, unknown>;
  /** The CRM's update body. */
  updateBody(fields: LeadFieldsInput): Record<string, unknown>;
  /** The feed names our own writes (Salesforce changeOrigin, Pipedrive change_source + user): echoes need no read. */
  echoesNamedByFeed: boolean;
  /** `GET /__sandbox/accounts/:id/records?email=` → lead fields and the marker. */
  readRecords(json: unknown): RecordView[];
}

export interface RunningEmulator {
  url: string;
  /** The LeadSync environment that points the provider at this emulator. */
  env: Record<string, string>;
  /** Resolves when the integration's feed is live (a pulled feed subscribes asynchronously, within a lease scan). */
  feedReady?(world: { prisma: PrismaClient; integrationId: string; logs: readonly { msg: string; [key: string]: unknown }[] }): Promise<void>;
  close(): Promise<void>;
}
