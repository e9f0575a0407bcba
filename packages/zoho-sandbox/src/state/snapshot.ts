import { z } from "zod";
import { EDITIONS } from "./editions.js";

/**
 * What the Zoho CRM emulator keeps across restarts when started with a `snapshotPath` (emulator-kit's snapshot
 * file): the OAuth app, every org (users, settings, Leads fields and records, notification channels), the refresh
 * and access tokens, the id counters. Not kept: credit and concurrency windows, call counters, faults, grant codes
 * (2 minutes), the token-mint window, and notifications still waiting for delivery (LeadSync's reconciliation
 * catches up on those).
 */
export const ZOHO_SNAPSHOT = { emulator: "zoho-sandbox", version: 1 } as const;

const user = z.object({ id: z.string(), name: z.string(), email: z.string() });

const fieldSchema = z.object({
  id: z.string(),
  api_name: z.string(),
  field_label: z.string(),
  data_type: z.enum(["text", "email", "phone", "picklist", "textarea", "datetime", "ownerlookup", "bigint"]),
  length: z.number(),
  custom_field: z.boolean(),
  system_mandatory: z.boolean(),
  unique: z.boolean(),
  read_only: z.boolean(),
});

export const zohoSnapshotSchema = z.object({
  app: z.object({ clientId: z.string(), clientSecret: z.string() }),
  counters: z.object({ lastId: z.string().regex(/^\d+$/), lastOrg: z.number().int() }),
  accounts: z.array(
    z.object({
      accountId: z.string(),
      apiUser: user,
      person: user,
      settings: z.object({ edition: z.enum(EDITIONS), users: z.number().int(), fieldsPermission: z.boolean(), fieldApiNameSuffix: z.string(), companyMandatory: z.boolean() }),
      /** the account's current refresh token (its `connect` body) */
      refreshToken: z.string(),
      fields: z.array(fieldSchema),
      leads: z.array(
        z.object({
          id: z.string(),
          values: z.record(z.string(), z.string().nullable()),
          createdAt: z.number(),
          modifiedAt: z.number(),
          createdBy: user,
          modifiedBy: user,
          owner: user,
        }),
      ),
      channels: z.array(
        z.object({
          channelId: z.string(),
          events: z.array(z.string()),
          notifyUrl: z.string(),
          token: z.string().optional(),
          expiresAt: z.number(),
          notifyOnRelatedAction: z.boolean(),
          returnAffectedFieldValues: z.boolean(),
        }),
      ),
    }),
  ),
  refreshTokens: z.array(z.tuple([z.string(), z.object({ accountId: z.string(), revoked: z.boolean(), accessTokens: z.array(z.string()) })])),
  accessTokens: z.array(z.tuple([z.string(), z.object({ accountId: z.string(), refreshToken: z.string().optional(), expiresAt: z.number() })])),
});
export type ZohoSnapshot = z.infer<typeof zohoSnapshotSchema>;
