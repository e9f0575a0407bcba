import type { Config, Logger } from "@leadsync/config";
import { conflictRuleOf, contactDeletedPolicyOf, fieldMappingOf, type CrmProviderClient, type CrmProviderModule } from "@leadsync/core";
import type { CrmIntegration, PrismaClient } from "@leadsync/db";
import { createIntegrationClients, type IntegrationClients, type LimiterFactory } from "@leadsync/providers";
import type { RedisClient } from "@leadsync/queue";
import type { SyncRules } from "./inbound/contact-changes.js";

/**
 * Integration access for the workers: the integration behind a CRM account, its provider module and a client per
 * integration. Integrations change rarely, so lookups are cached for a few seconds; every worker process has its
 * own cache and nothing else depends on it.
 */

export type Integration = CrmIntegration;

/** What the workers call: the provider seam (reads, writes, paged reads). */
export type SyncProvider = CrmProviderClient;

export interface IntegrationDirectory {
  findByAccount(provider: string, accountId: string): Promise<Integration | null>;
  findById(integrationId: string): Promise<Integration | null>;
  providerFor(integration: Integration): SyncProvider;
  moduleOf(integration: Pick<Integration, "provider">): CrmProviderModule;
  /** The settings that decide how inbound changes apply: mapping, conflict rule, deletion policy, marker field. */
  rulesFor(integration: Integration): SyncRules;
  clients: IntegrationClients;
  /** Forgets cached rows (after a status change this process made). */
  invalidate(): void;
}

export interface IntegrationDirectoryDeps {
  config: Config;
  prisma: PrismaClient;
  /** RedisClient for the shared rate limiters and the OAuth refresh lock. */
  connection: RedisClient;
  logger: Logger;
  limiterFor?: LimiterFactory;
  cacheTtlMs?: number;
}

interface CacheEntry {
  value: Integration | null;
  expiresAt: number;
}

/** Rows cached per process; the oldest go first beyond this (many tenants, bounded memory). */
const MAX_CACHED_ROWS = 5_000;

export function createIntegrationDirectory({ config, prisma, connection, logger, limiterFor, cacheTtlMs = 5_000 }: IntegrationDirectoryDeps): IntegrationDirectory {
  const byAccount = new Map<string, CacheEntry>();
  const byId = new Map<string, CacheEntry>();
  const forget = () => {
    byAccount.clear();
    byId.clear();
  };
  const clients = createIntegrationClients({
    config,
    prisma,
    redis: connection,
    logger,
    onReauthRequired: forget,
    ...(limiterFor === undefined ? {} : { limiterFor }),
  });

  async function cached(cache: Map<string, CacheEntry>, key: string, load: () => Promise<Integration | null>): Promise<Integration | null> {
    const hit = cache.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    const value = await load();
    cache.delete(key);
    cache.set(key, { value, expiresAt: Date.now() + cacheTtlMs });
    if (cache.size > MAX_CACHED_ROWS) cache.delete(cache.keys().next().value as string);
    return value;
  }

  return {
    findByAccount: (provider, accountId) =>
      cached(byAccount, `${provider}:${accountId}`, () =>
        prisma.crmIntegration.findUnique({
          where: { provider_externalAccountId: { provider: provider as Integration["provider"], externalAccountId: accountId } },
        }),
      ),
    findById: (integrationId) => cached(byId, integrationId, () => prisma.crmIntegration.findUnique({ where: { id: integrationId } })),
    providerFor: (integration) => clients.clientFor(integration),
    moduleOf: (integration) => clients.moduleOf(integration),
    rulesFor(integration) {
      const module = clients.moduleOf(integration);
      const client = clients.clientFor(integration);
      return {
        mapping: fieldMappingOf(integration, module.defaultFieldMapping),
        rule: conflictRuleOf(integration),
        onContactDeleted: contactDeletedPolicyOf(integration),
        markerField: client.markerField,
        crmName: module.displayName,
        clockResolutionMs: client.limits.clockResolutionMs ?? 1,
      };
    },
    clients,
    invalidate: forget,
  };
}
