import { z } from "zod";
import { SANDBOX_TIERS } from "../options.js";

/**
 * What the HubSpot sandbox keeps across restarts when started with a `snapshotPath` (emulator-kit's snapshot file):
 * the developer app's ids, every portal with its tokens, contacts, properties and limit overrides, the app's webhook
 * settings and subscriptions, and the id counters. Not kept: API call counters and rate-limit windows, faults,
 * authorization codes (minutes-long), and webhook events still waiting for delivery (a restart drops them, as a
 * receiver outage past HubSpot's retries would; LeadSync's reconciliation catches up).
 */
export const HUBSPOT_SNAPSHOT = { emulator: "hubspot-sandbox", version: 1 } as const;

const contactSchema = z.object({
  id: z.string(),
  properties: z.record(z.string(), z.string()),
  createdAt: z.number(),
  updatedAt: z.number(),
  archived: z.boolean(),
  archivedAt: z.number().optional(),
});

const optionSchema = z.object({ label: z.string(), value: z.string(), hidden: z.boolean(), displayOrder: z.number().optional(), description: z.string().optional() });

const propertySchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  fieldType: z.string(),
  groupName: z.string(),
  description: z.string(),
  options: z.array(optionSchema),
  displayOrder: z.number(),
  hidden: z.boolean(),
  formField: z.boolean(),
  hasUniqueValue: z.boolean(),
  hubspotDefined: z.boolean(),
  calculated: z.boolean(),
  externalOptions: z.boolean(),
  readOnlyValue: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  archived: z.boolean(),
});

export const hubspotSnapshotSchema = z.object({
  app: z.object({ appId: z.number().int(), clientId: z.string(), developerApiKey: z.string() }),
  portals: z.array(
    z.object({
      portalId: z.number().int(),
      tier: z.enum(SANDBOX_TIERS),
      authType: z.enum(["private_app", "oauth"]),
      accessToken: z.string(),
      refreshToken: z.string().optional(),
      overrides: z.object({ dailyLimit: z.number().optional(), rateLimitPer10s: z.number().optional() }),
      contacts: z.array(contactSchema),
      properties: z.array(propertySchema),
    }),
  ),
  accessTokens: z.array(z.tuple([z.string(), z.object({ portalId: z.number().int(), expiresAt: z.number().nullable() })])),
  refreshTokens: z.array(z.tuple([z.string(), z.number().int()])),
  webhooks: z.object({
    settings: z.object({ targetUrl: z.string(), maxConcurrentRequests: z.number(), createdAt: z.number(), updatedAt: z.number() }).optional(),
    subscriptions: z.array(
      z.object({ id: z.number().int(), eventType: z.string(), propertyName: z.string().optional(), active: z.boolean(), createdAt: z.number(), updatedAt: z.number() }),
    ),
    nextId: z.number().int(),
  }),
  consent: z.object({ decision: z.enum(["approve", "deny"]), portalId: z.number().int().optional() }),
  counters: z.object({ lastPortalId: z.number().int(), lastContactId: z.number().int(), lastEventId: z.number().int() }),
});
export type HubSpotSnapshot = z.infer<typeof hubspotSnapshotSchema>;
