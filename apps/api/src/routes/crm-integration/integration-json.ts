import { CONFLICT_RULES, CONTACT_DELETED_POLICIES, LEAD_FIELDS, conflictRuleOf, contactDeletedPolicyOf, fieldMappingOf } from "@leadsync/core";
import { providerModule } from "@leadsync/providers";
import { z } from "zod";

export const SYNC_DIRECTIONS = ["to_crm", "from_crm", "bidirectional"] as const;

/** lead field → CRM property; fields left out keep the provider's default property. */
const fieldMappingInput = z.partialRecord(z.enum(LEAD_FIELDS), z.string().trim().min(1).max(100));

/** The settings a caller may change (PATCH) or set at creation; omitted keys keep their value. */
export const integrationSettingsInput = z.strictObject({
  autoSync: z.strictObject({ enabled: z.boolean() }).optional(),
  syncDirection: z.enum(SYNC_DIRECTIONS).optional(),
  conflictRule: z.enum(CONFLICT_RULES).optional(),
  fieldMapping: fieldMappingInput.optional(),
  onContactDeleted: z.enum(CONTACT_DELETED_POLICIES).optional(),
  /** Also create the CRM's own lead object on each record we create, where the CRM has one (Pipedrive leads). */
  createCrmLead: z.boolean().optional(),
});
export type IntegrationSettingsInput = z.infer<typeof integrationSettingsInput>;

function settingsObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * The column values for the given settings: only what was given, so an update merges. Mapping, conflict rule and
 * deletion policy live in the `settings` JSON next to operator keys (rateLimit), which are kept.
 */
export function settingsToColumns(settings: IntegrationSettingsInput | undefined, currentSettings: unknown = {}) {
  const json = { ...settingsObject(currentSettings) };
  if (settings?.conflictRule !== undefined) json["conflictRule"] = settings.conflictRule;
  if (settings?.onContactDeleted !== undefined) json["onContactDeleted"] = settings.onContactDeleted;
  if (settings?.createCrmLead !== undefined) json["createCrmLead"] = settings.createCrmLead;
  if (settings?.fieldMapping !== undefined) json["fieldMapping"] = { ...settingsObject(json["fieldMapping"]), ...settings.fieldMapping };
  return {
    ...(settings?.autoSync !== undefined && { autoSyncEnabled: settings.autoSync.enabled }),
    ...(settings?.syncDirection !== undefined && { syncDirection: settings.syncDirection }),
    settings: json as object,
  };
}

/** An integration as the API shows it: an allow-list that can never contain a token, encrypted or not. */
export const integrationJson = z.object({
  id: z.string(),
  provider: z.string(),
  /** The CRM account: HubSpot portal, Salesforce org, Zoho org, Pipedrive company. */
  accountId: z.string(),
  /** The same as accountId (the setup guide's name, kept for HubSpot callers). */
  portalId: z.string(),
  authType: z.string(),
  tier: z.string(),
  status: z.string(),
  settings: z.object({
    autoSync: z.object({ enabled: z.boolean() }),
    syncDirection: z.enum(SYNC_DIRECTIONS),
    conflictRule: z.enum(CONFLICT_RULES),
    fieldMapping: z.record(z.string(), z.string()),
    onContactDeleted: z.enum(CONTACT_DELETED_POLICIES),
    createCrmLead: z.boolean(),
  }),
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
  settings: true,
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
  settings: unknown;
  webhooksEnabled: boolean;
  webhookUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toIntegrationJson(row: IntegrationRow): IntegrationJson {
  return {
    id: row.id,
    provider: row.provider,
    accountId: row.externalAccountId,
    portalId: row.externalAccountId,
    authType: row.authType,
    tier: row.tier,
    status: row.status,
    settings: {
      autoSync: { enabled: row.autoSyncEnabled },
      syncDirection: row.syncDirection,
      conflictRule: conflictRuleOf(row),
      fieldMapping: { ...fieldMappingOf(row, providerModule(row.provider).defaultFieldMapping) },
      onContactDeleted: contactDeletedPolicyOf(row),
      createCrmLead: settingsObject(row.settings)["createCrmLead"] === true,
    },
    webhooksEnabled: row.webhooksEnabled,
    webhookUrl: row.webhookUrl,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export const integrationIdParams = z.strictObject({ integrationId: z.uuid() });
