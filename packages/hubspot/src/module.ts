import {
  CrmReauthRequiredError,
  DEFAULT_HUBSPOT_FIELD_MAPPING,
  LEAD_SOURCE_PROPERTY,
  ProviderConnectError,
  fieldMappingOf,
  type ConnectedAccount,
  type CrmProviderModule,
  type ProviderEnvironment,
} from "@leadsync/core";
import type { RedisClient } from "./redis-script.js";
import { z } from "zod";
import { checkAccessToken } from "./account.js";
import { parseHubSpotChanges } from "./changes.js";
import { HubSpotApiError, InvalidRefreshTokenError } from "./errors.js";
import { HubSpotProvider } from "./hubspot-provider.js";
import { exchangeHubSpotCode, hubspotAuthorizeUrl } from "./oauth-connect.js";
import { refreshAccessToken } from "./oauth-tokens.js";
import { ensureLeadSourceProperty } from "./properties.js";
import { budgetFor, type HubSpotTier, type RateBudget } from "./rate-budget.js";
import { PortalRateLimiter } from "./rate-limiter.js";
import { createHubSpotClient } from "./sdk-client.js";
import { hubspotWebhookVerifier } from "./webhook-verifier.js";
import { LIFECYCLE_EVENT_TYPES, enableWebhookSubscriptions, requiredSubscriptions, watchedProperties } from "./webhook-subscriptions.js";

/** HubSpot as one provider of the pipeline (core's CrmProviderModule). */

export const HUBSPOT_TIERS = ["free", "starter", "professional", "enterprise", "unlimited"] as const satisfies readonly HubSpotTier[];

const token = z.string().trim().min(1).max(2048);

/** A private-app `accessToken`, or an OAuth `refreshToken` (exchanged once with the configured client id/secret). */
export const hubspotConnectBody = z
  .strictObject({
    accessToken: token.optional(),
    refreshToken: token.optional(),
    portalId: z.union([z.string().regex(/^\d{1,20}$/, "must be a numeric HubSpot portal id"), z.number().int().positive()]).transform(String),
    tier: z.enum(HUBSPOT_TIERS).optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.accessToken === undefined) === (body.refreshToken === undefined)) {
      ctx.addIssue({ code: "custom", path: ["accessToken"], message: "give exactly one of accessToken (private app) or refreshToken (OAuth)" });
    }
  });
export type HubSpotConnectBody = z.output<typeof hubspotConnectBody>;

/**
 * HubSpot failures while connecting → connect errors. HubSpot refusing the credentials is the caller's problem (422,
 * with HubSpot's reason); HubSpot being down or unreachable is not (502). Messages come from HubSpot's error body
 * (HubSpotApiError never includes the request), so they carry no token.
 */
function toConnectError(err: unknown, step: string): Error {
  if (err instanceof ProviderConnectError) return err;
  if (err instanceof InvalidRefreshTokenError) {
    return new ProviderConnectError("hubspot_refresh_token_rejected", `HubSpot rejected the refresh token while ${step}: ${err.message}`);
  }
  if (err instanceof HubSpotApiError && err.status !== undefined && err.status < 500 && err.status !== 429) {
    const reason = err.status === 401 ? "the token is invalid, expired or revoked" : err.message;
    return new ProviderConnectError("hubspot_token_rejected", `HubSpot rejected the credentials while ${step} (HTTP ${err.status}): ${reason}`);
  }
  const detail = err instanceof Error ? err.message : "unknown error";
  return new ProviderConnectError("hubspot_unavailable", `HubSpot could not be reached while ${step}: ${detail}`, 502);
}

function apiBaseOf(env: ProviderEnvironment): string {
  return env.apiBase ?? "https://api.hubapi.com";
}

/**
 * Checks the credentials against HubSpot once: an OAuth refresh token is exchanged for an access token; the token's
 * portal must be the one the caller named; the `lead_source_system` property (with the marker among its options) is
 * ensured, so the first push can set it.
 */
async function connect(body: HubSpotConnectBody, env: ProviderEnvironment): Promise<ConnectedAccount> {
  const basePath = apiBaseOf(env);
  let account: ConnectedAccount;
  if (body.refreshToken !== undefined) {
    if (!env.clientId || !env.clientSecret) {
      throw new ProviderConnectError("oauth_not_configured", "Connecting with a refresh token needs HUBSPOT_CLIENT_ID (and HUBSPOT_CLIENT_SECRET) configured on the server");
    }
    const refreshed = await refreshAccessToken({ basePath, clientId: env.clientId, clientSecret: env.clientSecret, refreshToken: body.refreshToken }).catch(
      (err: unknown) => {
        throw toConnectError(err, "refreshing the OAuth token");
      },
    );
    account = { externalAccountId: body.portalId, authType: "oauth", tokens: refreshed, state: {} };
  } else {
    account = { externalAccountId: body.portalId, authType: "private_app", tokens: { accessToken: body.accessToken ?? "" }, state: {} };
  }
  if (body.tier !== undefined) account.tier = body.tier;

  const client = createHubSpotClient({ accessToken: account.tokens.accessToken, basePath });
  const details = await checkAccessToken(client).catch((err: unknown) => {
    throw toConnectError(err, "checking the token");
  });
  if (String(details.portalId) !== body.portalId) {
    throw new ProviderConnectError("portal_mismatch", `The token belongs to HubSpot portal ${details.portalId}, not ${body.portalId}`, 400, [
      { field: "portalId", message: `the token's portal is ${details.portalId}` },
    ]);
  }
  await ensureLeadSourceProperty(client, env.marker).catch((err: unknown) => {
    throw toConnectError(err, `creating the ${LEAD_SOURCE_PROPERTY} property`);
  });
  return account;
}

const TIERS: readonly string[] = HUBSPOT_TIERS;

function tierOf(tier: string): HubSpotTier {
  return TIERS.includes(tier) ? (tier as HubSpotTier) : "starter";
}

/**
 * The per-integration override lives in `settings.rateLimit`, set by operators: either a number (requests per
 * 10 s) or `{ per10s?, daily?, searchPerSecond? }`.
 */
export function rateLimitOverride(settings: unknown): Partial<RateBudget> | undefined {
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

/** One PortalRateLimiter per RedisClient connection and prefix: it holds only its scripts and formatters. */
const limiters = new WeakMap<object, Map<string, PortalRateLimiter>>();

function portalLimiter(redis: RedisClient, keyPrefix: string): PortalRateLimiter {
  let byPrefix = limiters.get(redis);
  if (!byPrefix) limiters.set(redis, (byPrefix = new Map()));
  let limiter = byPrefix.get(keyPrefix);
  if (!limiter) byPrefix.set(keyPrefix, (limiter = new PortalRateLimiter({ redis, keyPrefix })));
  return limiter;
}

export const hubspotProvider: CrmProviderModule<HubSpotConnectBody> = {
  name: "hubspot",
  displayName: "HubSpot",
  connectBody: hubspotConnectBody,
  connect,
  accountIdOf: (body) => body.portalId,
  defaultFieldMapping: DEFAULT_HUBSPOT_FIELD_MAPPING,

  /** The public app's install flow (oauth-connect.ts: the authorize host, scopes, PKCE). */
  oauth: {
    authorizeUrl: hubspotAuthorizeUrl,
    exchangeCode: (options) => exchangeHubSpotCode(options, toConnectError),
  },

  async refreshTokens(tokens, _integration, env) {
    if (!tokens.refreshToken) throw new CrmReauthRequiredError("HubSpot integration has no refresh token");
    try {
      return await refreshAccessToken({ basePath: apiBaseOf(env), clientId: env.clientId ?? "", clientSecret: env.clientSecret ?? "", refreshToken: tokens.refreshToken });
    } catch (err) {
      if (err instanceof InvalidRefreshTokenError) throw new CrmReauthRequiredError(err.message);
      throw err;
    }
  },

  createClient(context) {
    const { integration, env, shared } = context;
    const override = rateLimitOverride(integration.settings);
    const budget = budgetFor({ tier: tierOf(integration.tier), authType: integration.authType, ...(override === undefined ? {} : { override }) });
    return new HubSpotProvider({
      portalId: integration.externalAccountId,
      basePath: apiBaseOf(env),
      requestTimeoutMs: env.requestTimeoutMs,
      getAccessToken: () => context.getAccessToken(),
      limiter: { limiter: portalLimiter(shared.redis as RedisClient, shared.keyPrefix), budget },
      logger: context.logger as ConstructorParameters<typeof HubSpotProvider>[0]["logger"],
    });
  },

  parseChanges: (events, { env }) => parseHubSpotChanges(events, env.appId),

  webhook: hubspotWebhookVerifier,

  async enableChangeFeed(context, { webhookUrl }) {
    const { env } = context;
    const mapping = fieldMappingOf(context.integration, DEFAULT_HUBSPOT_FIELD_MAPPING);
    const targetUrl = webhookUrl ?? "";
    if (!env.appId || !env.developerApiKey) {
      // Private apps cannot manage subscriptions by API (hubspot-facts.md §3.2): say exactly what to set up by hand.
      const subscriptions = requiredSubscriptions(mapping);
      const list = subscriptions.map((s) => (s.propertyName ? `${s.eventType} (${s.propertyName})` : s.eventType)).join(", ");
      throw new ProviderConnectError(
        "webhooks_managed_in_hubspot",
        "This server has no HubSpot developer-app credentials (HUBSPOT_APP_ID and HUBSPOT_DEVELOPER_API_KEY), so webhooks " +
          "are configured in HubSpot: Settings → Integrations → Private Apps → your app → Webhooks. " +
          `Target URL: ${targetUrl}. Subscriptions: ${list}.`,
        409,
        { targetUrl, subscriptions },
      );
    }
    const created = await enableWebhookSubscriptions({
      basePath: apiBaseOf(env),
      appId: env.appId,
      developerApiKey: env.developerApiKey,
      targetUrl,
      propertyNames: watchedProperties(mapping),
      eventTypes: LIFECYCLE_EVENT_TYPES,
    }).catch((err: unknown) => {
      if (err instanceof HubSpotApiError && err.status !== undefined && err.status < 500 && err.status !== 429) {
        throw new ProviderConnectError("hubspot_rejected", `HubSpot refused the webhook subscriptions: ${err.message}`);
      }
      throw new ProviderConnectError("hubspot_unavailable", `HubSpot could not be reached to manage webhooks: ${err instanceof Error ? err.message : "unknown error"}`, 502);
    });
    return {
      subscriptions: created.map((s) => ({
        id: String(s.id),
        eventType: s.eventType,
        ...(s.propertyName !== undefined && s.propertyName !== null && { propertyName: s.propertyName }),
        active: s.active,
      })),
      webhookUrl: targetUrl,
    };
  },
};
