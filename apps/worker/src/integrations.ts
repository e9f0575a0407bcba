import type { Config, Logger } from "@leadsync/config";
import {
  conflictRuleOf,
  contactDeletedPolicyOf,
  decryptToken,
  encryptToken,
  fieldMappingOf,
  type CrmProviderClient,
} from "@leadsync/core";
import type { CrmIntegration, PrismaClient } from "@leadsync/db";
import {
  AccessTokenCache,
  HubSpotProvider,
  InvalidRefreshTokenError,
  PortalRateLimiter,
  budgetFor,
  refreshAccessToken,
  type HubSpotTier,
  type RateBudget,
  type TokenStore,
} from "@leadsync/hubspot";
import type { Redis } from "ioredis";

/**
 * Integration access for the workers: the integration behind a portal id, and a provider client per
 * integration. Integrations change rarely, so lookups are cached for a few seconds; every worker process
 * has its own cache and nothing else depends on it.
 */

export type Integration = CrmIntegration;

/** The integration's field mapping (settings.fieldMapping over HubSpot's defaults); outbound writes through it too. */
export { fieldMappingOf } from "@leadsync/core";

/** The settings that decide how inbound changes apply: mapping, conflict rule, deletion policy, our app id. */
export function syncRulesOf(integration: Integration, config: Config) {
  return {
    mapping: fieldMappingOf(integration),
    rule: conflictRuleOf(integration),
    onContactDeleted: contactDeletedPolicyOf(integration),
    appId: config.hubspot.appId,
  };
}

/** What the workers call: the provider seam plus the paged searches of backfill and reconciliation. */
export type SyncProvider = CrmProviderClient & ContactPager;

/** Paged reads of a whole portal (backfill) and of what changed since a time (reconciliation). */
export type ContactPager = Pick<HubSpotProvider, "searchContactsAfterId" | "searchContactsModifiedSince">;

export interface IntegrationDirectory {
  findByPortal(portalId: string): Promise<Integration | null>;
  findById(integrationId: string): Promise<Integration | null>;
  providerFor(integration: Integration): SyncProvider;
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
  const providers = new Map<string, { provider: SyncProvider; updatedAt: number }>();
  // Keyed under the queue prefix, so separate deployments (and test runs) sharing a Redis never share budgets.
  const limiter = new PortalRateLimiter({ redis: connection, keyPrefix: `${config.queuePrefix}:ratelimit` });
  const oauthTokens = new AccessTokenCache({ redis: connection, keyPrefix: `${config.queuePrefix}:oauth` });

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

  function decrypt(value: string | null, what: string, integrationId: string): string {
    if (!value) throw new Error(`integration ${integrationId} has no ${what}`);
    return decryptToken(value, config.encryptionKey);
  }

  /** OAuth tokens live encrypted in the integration row; every process loads and saves them there. */
  function oauthStore(integrationId: string): TokenStore {
    return {
      async load() {
        const row = await prisma.crmIntegration.findUniqueOrThrow({ where: { id: integrationId } });
        return {
          accessToken: decrypt(row.accessTokenEnc, "access token", integrationId),
          refreshToken: decrypt(row.refreshTokenEnc, "refresh token", integrationId),
          expiresAt: row.accessTokenExpiresAt?.getTime() ?? 0,
        };
      },
      refresh: (current) =>
        refreshAccessToken({
          basePath: config.hubspot.apiBase,
          clientId: config.hubspot.clientId ?? "",
          clientSecret: config.hubspot.clientSecret,
          refreshToken: current.refreshToken,
        }),
      async save(tokens) {
        await prisma.crmIntegration.update({
          where: { id: integrationId },
          data: {
            accessTokenEnc: encryptToken(tokens.accessToken, config.encryptionKey),
            refreshTokenEnc: encryptToken(tokens.refreshToken, config.encryptionKey),
            accessTokenExpiresAt: new Date(tokens.expiresAt),
          },
        });
      },
    };
  }

  /** A refused refresh token: the integration needs the customer to re-authorise it; its jobs stop calling HubSpot. */
  async function markNeedsReauth(integration: Integration, error: InvalidRefreshTokenError): Promise<void> {
    logger.error({ integrationId: integration.id, portalId: integration.externalAccountId }, error.message);
    await prisma.$transaction([
      prisma.crmIntegration.update({ where: { id: integration.id }, data: { status: "needs_reauth" } }),
      prisma.integrationError.create({ data: { integrationId: integration.id, code: "auth_failed", message: error.message } }),
    ]);
    byPortal.clear();
    byId.clear();
  }

  function accessTokenOf(integration: Integration): () => Promise<string> {
    if (integration.authType === "private_app") {
      return async () => decrypt(integration.accessTokenEnc, "access token", integration.id);
    }
    return async () => {
      try {
        return await oauthTokens.getAccessToken(integration.id, oauthStore(integration.id));
      } catch (error) {
        if (error instanceof InvalidRefreshTokenError) await markNeedsReauth(integration, error);
        throw error;
      }
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
      const access = {
        portalId: integration.externalAccountId,
        basePath: config.hubspot.apiBase,
        requestTimeoutMs: config.hubspot.requestTimeoutMs,
        getAccessToken: accessTokenOf(integration),
        limiter: { limiter, budget },
      };
      const hubspot = new HubSpotProvider({ ...access, logger: logger.child({ integrationId: integration.id, portalId: access.portalId }) });
      const provider: SyncProvider = hubspot;
      providers.set(integration.id, { provider, updatedAt: integration.updatedAt.getTime() });
      return provider;
    },

    invalidate() {
      byPortal.clear();
      byId.clear();
    },
  };
}
