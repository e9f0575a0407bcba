import type { Config, Logger } from "@leadsync/config";
import { decryptToken, type CrmProviderClient } from "@leadsync/core";
import type { CrmIntegration, PrismaClient } from "@leadsync/db";
import { HubSpotProvider, PortalRateLimiter, budgetFor, type HubSpotTier, type RateBudget } from "@leadsync/hubspot";
import type { Redis } from "ioredis";

/**
 * Integration access for the workers: the integration behind a portal id, and a provider client per
 * integration. Integrations change rarely, so lookups are cached for a few seconds; every worker process
 * has its own cache and nothing else depends on it.
 */

export type Integration = CrmIntegration;

export interface IntegrationDirectory {
  findByPortal(portalId: string): Promise<Integration | null>;
  findById(integrationId: string): Promise<Integration | null>;
  providerFor(integration: Integration): CrmProviderClient;
  /** Forgets cached rows (after a status change this process made). */
  invalidate(): void;
}

export interface IntegrationDirectoryDeps {
  config: Config;
  prisma: PrismaClient;
  /** Redis for the shared per-portal rate limiter. */
  connection: Redis;
  logger: Logger;
  cacheTtlMs?: number;
}

interface CacheEntry {
  value: Integration | null;
  expiresAt: number;
}

const TIERS: readonly string[] = ["free", "starter", "professional", "enterprise", "unlimited"] satisfies HubSpotTier[];

function tierOf(tier: string): HubSpotTier {
  return TIERS.includes(tier) ? (tier as HubSpotTier) : "starter";
}

/**
 * The per-integration override lives in `settings.rateLimit`, set by operators: either a number (requests per
 * 10 s) or `{ per10s?, daily?, searchPerSecond? }`.
 */
function rateLimitOverride(settings: unknown): Partial<RateBudget> | undefined {
  if (typeof settings !== "object" || settings === null) return undefined;
  const value = (settings as Record<string, unknown>)["rateLimit"];
  if (typeof value === "number" && value > 0) return { per10s: value };
  if (typeof value !== "object" || value === null) return undefined;
  const override: Partial<RateBudget> = {};
  for (const key of ["per10s", "daily", "searchPerSecond"] as const) {
    const n = (value as Record<string, unknown>)[key];
    if (typeof n === "number" && n > 0) override[key] = n;
  }
  return Object.keys(override).length > 0 ? override : undefined;
}

export function createIntegrationDirectory({
  config,
  prisma,
  connection,
  logger,
  cacheTtlMs = 5_000,
}: IntegrationDirectoryDeps): IntegrationDirectory {
  const byPortal = new Map<string, CacheEntry>();
  const byId = new Map<string, CacheEntry>();
  const providers = new Map<string, { provider: CrmProviderClient; updatedAt: number }>();
  // Keyed under the queue prefix, so separate deployments (and test runs) sharing a Redis never share budgets.
  const limiter = new PortalRateLimiter({ redis: connection, keyPrefix: `${config.queuePrefix}:ratelimit` });

  async function cached(
    cache: Map<string, CacheEntry>,
    key: string,
    load: () => Promise<Integration | null>,
  ): Promise<Integration | null> {
    const hit = cache.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    const value = await load();
    cache.set(key, { value, expiresAt: Date.now() + cacheTtlMs });
    return value;
  }

  function accessTokenOf(integration: Integration): () => Promise<string> {
    return async () => {
      if (!integration.accessTokenEnc) throw new Error(`integration ${integration.id} has no access token`);
      return decryptToken(integration.accessTokenEnc, config.encryptionKey);
    };
  }

  return {
    findByPortal: (portalId) =>
      cached(byPortal, portalId, () =>
        prisma.crmIntegration.findUnique({
          where: { provider_externalAccountId: { provider: "hubspot", externalAccountId: portalId } },
        }),
      ),

    findById: (integrationId) =>
      cached(byId, integrationId, () => prisma.crmIntegration.findUnique({ where: { id: integrationId } })),

    providerFor(integration) {
      // A changed row (new token, tier, override) gets a new client.
      const known = providers.get(integration.id);
      if (known && known.updatedAt === integration.updatedAt.getTime()) return known.provider;
      const override = rateLimitOverride(integration.settings);
      const budget = budgetFor({
        tier: tierOf(integration.tier),
        authType: integration.authType,
        ...(override === undefined ? {} : { override }),
      });
      const provider = new HubSpotProvider({
        portalId: integration.externalAccountId,
        basePath: config.hubspot.apiBase,
        getAccessToken: accessTokenOf(integration),
        limiter: { limiter, budget },
        logger: logger.child({ integrationId: integration.id, portalId: integration.externalAccountId }),
      });
      providers.set(integration.id, { provider, updatedAt: integration.updatedAt.getTime() });
      return provider;
    },

    invalidate() {
      byPortal.clear();
      byId.clear();
    },
  };
}
