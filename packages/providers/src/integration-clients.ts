import type { Config, Logger } from "@leadsync/config";
import {
  decryptToken,
  encryptToken,
  isCrmReauthRequired,
  type AccountCallLimiter,
  type ClientContext,
  type CrmProviderClient,
  type CrmProviderModule,
  type ProviderIntegration,
} from "@leadsync/core";
import type { CrmIntegration, PrismaClient } from "@leadsync/db";
import { AccessTokenCache, type OAuthTokens, type TokenStore } from "@leadsync/hubspot";
import { SharedRateLimiter } from "@leadsync/ratelimit";
import type { RedisClient } from "@leadsync/ratelimit";
import { countingLimiter } from "./call-metrics.js";
import { providerEnvironment } from "./environment.js";
import { providerModule } from "./registry.js";

/**
 * Provider clients per integration, for every process that calls a CRM (workers, API): decrypted tokens, OAuth
 * refresh once for all processes (a Redis lock), `needs_reauth` when the CRM refuses the refresh token, and the
 * account's shared limiter. Clients are rebuilt when the integration row changes.
 */

/** How long an OAuth token that came without an expiry (Salesforce) is used before a scheduled refresh. */
export const UNDATED_TOKEN_REFRESH_MS = 90 * 60_000;
/** Clients kept per process; the oldest is dropped beyond this (thousands of tenants, bounded memory). */
const MAX_CACHED_CLIENTS = 2_000;

export type LimiterFactory = (module: CrmProviderModule, integration: CrmIntegration) => AccountCallLimiter;

export interface IntegrationClientsDeps {
  config: Config;
  prisma: PrismaClient;
  redis: RedisClient;
  logger: Logger;
  /**
   * The shared limiter of an account; default: `@leadsync/ratelimit` enforcing the provider's `limitPolicy`.
   * Providers without a policy (HubSpot keeps its own limiter) get one that refuses to be used.
   */
  limiterFor?: LimiterFactory;
  /** Called after this process marked an integration `needs_reauth` (caches to forget). */
  onReauthRequired?: (integrationId: string) => void;
}

export interface IntegrationClients {
  moduleOf(integration: Pick<CrmIntegration, "provider">): CrmProviderModule;
  contextFor(integration: CrmIntegration): ClientContext;
  clientFor(integration: CrmIntegration): CrmProviderClient;
  /** After a re-authorisation: forgets the refused refresh token's marker (in every process) and this process's tokens. */
  clearRefusedToken(integrationId: string): Promise<void>;
}

/** The integration as its provider package sees it. */
export function providerIntegrationOf(integration: CrmIntegration): ProviderIntegration {
  const settings = integration.settings;
  const state = typeof settings === "object" && settings !== null ? (settings as Record<string, unknown>)["provider"] : undefined;
  return {
    id: integration.id,
    externalAccountId: integration.externalAccountId,
    authType: integration.authType,
    tier: integration.tier,
    settings,
    state: typeof state === "object" && state !== null ? (state as Record<string, unknown>) : {},
  };
}

const refusingLimiter = (provider: string): AccountCallLimiter => {
  const refuse = async () => {
    throw new Error(`no shared rate limiter is configured for ${provider}`);
  };
  return { acquire: refuse, observe: refuse, pause: refuse };
};

export function createIntegrationClients({ config, prisma, redis, logger, limiterFor, onReauthRequired }: IntegrationClientsDeps): IntegrationClients {
  const tokens = new AccessTokenCache({ redis, keyPrefix: `${config.queuePrefix}:oauth` });
  const shared = new SharedRateLimiter({ redis, keyPrefix: `${config.queuePrefix}:ratelimit` });
  const limiterOf: LimiterFactory =
    limiterFor ??
    ((module, integration) =>
      module.limitPolicy
        ? shared.forAccount(module.name, integration.externalAccountId, module.limitPolicy(providerIntegrationOf(integration)))
        : refusingLimiter(module.name));
  const clients = new Map<string, { client: CrmProviderClient; updatedAt: number }>();

  function decrypt(value: string | null, what: string, integrationId: string): string {
    if (!value) throw new Error(`integration ${integrationId} has no ${what}`);
    return decryptToken(value, config.encryptionKey);
  }

  /** OAuth tokens live encrypted in the integration row; every process loads and saves them there. */
  function oauthStore(module: CrmProviderModule, integration: CrmIntegration): TokenStore {
    const env = providerEnvironment(config, module.name);
    return {
      async load() {
        const row = await prisma.crmIntegration.findUniqueOrThrow({ where: { id: integration.id } });
        return {
          accessToken: decrypt(row.accessTokenEnc, "access token", integration.id),
          refreshToken: decrypt(row.refreshTokenEnc, "refresh token", integration.id),
          expiresAt: row.accessTokenExpiresAt?.getTime() ?? 0,
        };
      },
      async refresh(current): Promise<OAuthTokens> {
        if (!module.refreshTokens) throw new Error(`${module.displayName} integrations cannot refresh tokens`);
        const next = await module.refreshTokens(current, providerIntegrationOf(integration), env);
        return {
          accessToken: next.accessToken,
          refreshToken: next.refreshToken ?? current.refreshToken,
          expiresAt: next.expiresAt ?? Date.now() + UNDATED_TOKEN_REFRESH_MS,
        };
      },
      async save(saved) {
        await prisma.crmIntegration.update({
          where: { id: integration.id },
          data: {
            accessTokenEnc: encryptToken(saved.accessToken, config.encryptionKey),
            refreshTokenEnc: encryptToken(saved.refreshToken, config.encryptionKey),
            accessTokenExpiresAt: new Date(saved.expiresAt),
          },
        });
      },
    };
  }

  /** A refused refresh token: the customer must re-authorise; the integration's jobs stop calling the CRM. */
  async function markNeedsReauth(integration: CrmIntegration, error: Error): Promise<void> {
    logger.error({ integrationId: integration.id, provider: integration.provider, accountId: integration.externalAccountId }, error.message);
    await prisma.$transaction([
      prisma.crmIntegration.update({ where: { id: integration.id }, data: { status: "needs_reauth" } }),
      prisma.integrationError.create({ data: { integrationId: integration.id, code: "auth_failed", message: error.message } }),
    ]);
    onReauthRequired?.(integration.id);
  }

  function accessTokenOf(module: CrmProviderModule, integration: CrmIntegration): ClientContext["getAccessToken"] {
    if (integration.authType === "private_app") return async () => decrypt(integration.accessTokenEnc, "access token", integration.id);
    let lastToken: string | undefined;
    return async (options = {}) => {
      try {
        const refused = options.forceRefresh ? lastToken : undefined;
        lastToken = await tokens.getAccessToken(integration.id, oauthStore(module, integration), refused === undefined ? {} : { refused });
        return lastToken;
      } catch (error) {
        if (isCrmReauthRequired(error)) await markNeedsReauth(integration, error);
        throw error;
      }
    };
  }

  function contextFor(integration: CrmIntegration): ClientContext {
    const module = providerModule(integration.provider);
    return {
      integration: providerIntegrationOf(integration),
      env: providerEnvironment(config, module.name),
      getAccessToken: accessTokenOf(module, integration),
      limiter: countingLimiter(limiterOf(module, integration), module.name, integration.externalAccountId),
      logger: logger.child({ integrationId: integration.id, provider: module.name, accountId: integration.externalAccountId }),
      shared: { redis, keyPrefix: `${config.queuePrefix}:ratelimit` },
    };
  }

  return {
    clearRefusedToken: (integrationId) => tokens.clearInvalid(integrationId),
    moduleOf: (integration) => providerModule(integration.provider),
    contextFor,
    clientFor(integration) {
      // A changed row (new token, tier, override, feed state) gets a new client.
      const known = clients.get(integration.id);
      if (known && known.updatedAt === integration.updatedAt.getTime()) return known.client;
      const client = providerModule(integration.provider).createClient(contextFor(integration));
      clients.delete(integration.id);
      clients.set(integration.id, { client, updatedAt: integration.updatedAt.getTime() });
      if (clients.size > MAX_CACHED_CLIENTS) clients.delete(clients.keys().next().value as string);
      return client;
    },
  };
}
