import { z } from "zod";

export const SYNC_DIRECTIONS = ["to_crm", "from_crm", "bidirectional"] as const;

/** The settings a caller may change (PATCH) or set at creation; omitted keys keep their value. */
export const integrationSettingsInput = z.strictObject({
  autoSync: z.strictObject({ enabled: z.boolean() }).optional(),
  syncDirection: z.enum(SYNC_DIRECTIONS).optional(),
});
export type IntegrationSettingsInput = z.infer<typeof integrationSettingsInput>;

/** The column values for the given settings: only what was given, so an update merges. */
export function settingsToColumns(settings: IntegrationSettingsInput | undefined) {
  return {
    ...(settings?.autoSync !== undefined && { autoSyncEnabled: settings.autoSync.enabled }),
    ...(settings?.syncDirection !== undefined && { syncDirection: settings.syncDirection }),
  };
}

/** An integration as the API shows it: an allow-list that can never contain a token, encrypted or not. */
export const integrationJson = z.object({
  id: z.string(),
  provider: z.string(),
  portalId: z.string(),
  authType: z.string(),
  tier: z.string(),
  status: z.string(),
  settings: z.object({ autoSync: z.object({ enabled: z.boolean() }), syncDirection: z.enum(SYNC_DIRECTIONS) }),
  webhooksEnabled: z.boolean(),
  webhookUrl: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type IntegrationJson = z.infer<typeof integrationJson>;

/** Columns `toIntegrationJson` reads; select exactly these so token columns are never even loaded. */
export const integrationSelect = {
  id: true,
  provider: true,
  externalAccountId: true,
  authType: true,
  tier: true,
  status: true,
  autoSyncEnabled: true,
  syncDirection: true,
  webhooksEnabled: true,
  webhookUrl: true,
  createdAt: true,
  updatedAt: true,
} as const;

interface IntegrationRow {
  id: string;
  provider: string;
  externalAccountId: string;
  authType: string;
  tier: string;
  status: string;
  autoSyncEnabled: boolean;
  syncDirection: (typeof SYNC_DIRECTIONS)[number];
  webhooksEnabled: boolean;
  webhookUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toIntegrationJson(row: IntegrationRow): IntegrationJson {
  return {
    id: row.id,
    provider: row.provider,
    portalId: row.externalAccountId,
    authType: row.authType,
    tier: row.tier,
    status: row.status,
    settings: { autoSync: { enabled: row.autoSyncEnabled }, syncDirection: row.syncDirection },
    webhooksEnabled: row.webhooksEnabled,
    webhookUrl: row.webhookUrl,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export const integrationIdParams = z.strictObject({ integrationId: z.uuid() });
