import type { RequestContext, ResponseContext } from "@hubspot/api-client/lib/codegen/oauth/http/http.js";
import { LEAD_SOURCE_PROPERTY, ProviderConnectError, type ConnectedAccount, type OAuthSupport, type ProviderEnvironment } from "@leadsync/core";
import { isApiException, toHubSpotError } from "./errors.js";
import { ensureLeadSourceProperty } from "./properties.js";
import { createHubSpotClient } from "./sdk-client.js";

/**
 * HubSpot's part of the OAuth connect flow (a public app installed on a portal): the install URL and the code exchange.
 * hubspot-facts.md §7: authorize at `https://app.hubspot.com/oauth/authorize`, token at `POST /oauth/v1/token`, where
 * PKCE's `code_verifier` is optional, so we always send an S256 challenge and its verifier.
 */

/**
 * Reads and writes contacts, and creates the `lead_source_system` property (properties need
 * `crm.schemas.contacts.write`; reading them and webhook subscriptions accept `crm.objects.contacts.read`).
 */
export const HUBSPOT_OAUTH_SCOPES = ["crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.write"] as const;

const HUBSPOT_API_BASE = "https://api.hubapi.com";
const HUBSPOT_AUTHORIZE_BASE = "https://app.hubspot.com";

/**
 * Where the browser goes to install the app. HubSpot's install screen lives on `app.hubspot.com`, not on the API host;
 * so: `env.oauthBase` when configured; else, for the real API (`HUBSPOT_API_BASE` unset or `api.hubapi.com`),
 * `https://app.hubspot.com`; else the configured API base itself — the sandbox (or a proxy) serves `/oauth/authorize`
 * next to the API.
 */
export function hubspotAuthorizeBase(env: Pick<ProviderEnvironment, "apiBase" | "oauthBase">): string {
  if (env.oauthBase) return env.oauthBase.replace(/\/+$/, "");
  const apiBase = (env.apiBase ?? HUBSPOT_API_BASE).replace(/\/+$/, "");
  return new URL(apiBase).host === new URL(HUBSPOT_API_BASE).host ? HUBSPOT_AUTHORIZE_BASE : apiBase;
}

export const hubspotAuthorizeUrl: OAuthSupport["authorizeUrl"] = ({ state, redirectUri, codeChallenge, env }) => {
  const url = new URL("/oauth/authorize", hubspotAuthorizeBase(env));
  url.searchParams.set("client_id", env.clientId ?? "");
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("scope", HUBSPOT_OAUTH_SCOPES.join(" "));
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
};

/** The SDK's `tokensApi.create` has no `code_verifier` parameter: this call-time middleware adds it to the form body. */
function withCodeVerifier(codeVerifier: string) {
  return {
    middleware: [
      {
        pre: async (context: RequestContext) => {
          const body = context.getBody();
          if (body instanceof URLSearchParams) body.append("code_verifier", codeVerifier);
          return context;
        },
        post: async (context: ResponseContext) => context,
      },
    ],
    middlewareMergeStrategy: "append" as const,
  };
}

function oauthErrorOf(err: unknown): { error?: string; status?: string; description?: string } | undefined {
  if (!isApiException(err) || err.code < 400 || err.code >= 500) return undefined;
  const body = (typeof err.body === "object" && err.body !== null ? err.body : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof body[key] === "string" ? (body[key] as string) : undefined);
  const refusal: { error?: string; status?: string; description?: string } = {};
  const error = text("error");
  const status = text("status");
  const description = text("error_description") ?? text("message");
  if (error !== undefined) refusal.error = error;
  if (status !== undefined) refusal.status = status;
  if (description !== undefined) refusal.description = description;
  return refusal;
}

type ExchangeOptions = Parameters<OAuthSupport["exchangeCode"]>[0];

/**
 * The callback's code → tokens (`grant_type=authorization_code` with the PKCE verifier), the token's portal (its
 * metadata), then `lead_source_system` ensured as `connect` does. `toConnectError` is the module's mapping of HubSpot
 * failures (refused → 422, down → 502).
 */
export async function exchangeHubSpotCode(
  { code, codeVerifier, redirectUri, env }: ExchangeOptions,
  toConnectError: (err: unknown, step: string) => Error,
): Promise<ConnectedAccount> {
  if (!env.clientId || !env.clientSecret) {
    throw new ProviderConnectError("oauth_not_configured", "The HubSpot OAuth connect flow needs HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET configured on the server", 400);
  }
  const basePath = env.apiBase ?? HUBSPOT_API_BASE;
  const anonymous = createHubSpotClient({ basePath, timeoutMs: env.requestTimeoutMs });
  const requestedAt = Date.now();
  const tokens = await anonymous.oauth.tokensApi
    .create("authorization_code", code, redirectUri, env.clientId, env.clientSecret, undefined, withCodeVerifier(codeVerifier))
    .catch((err: unknown) => {
      const refusal = oauthErrorOf(err);
      if (refusal) {
        const reason = [refusal.status, refusal.description].filter(Boolean).join(": ") || "invalid_grant";
        throw new ProviderConnectError("hubspot_code_rejected", `HubSpot refused the authorization code (${reason}); start the connection again`, 400);
      }
      throw toConnectError(toHubSpotError(err, "OAuth code exchange"), "exchanging the authorization code");
    });
  const metadata = await anonymous.oauth.accessTokensApi.get(tokens.accessToken).catch((err: unknown) => {
    throw toConnectError(toHubSpotError(err, "OAuth token metadata"), "reading the token's portal");
  });
  const client = createHubSpotClient({ accessToken: tokens.accessToken, basePath, timeoutMs: env.requestTimeoutMs });
  await ensureLeadSourceProperty(client, env.marker).catch((err: unknown) => {
    throw toConnectError(err, `creating the ${LEAD_SOURCE_PROPERTY} property`);
  });
  return {
    externalAccountId: String(metadata.hubId),
    authType: "oauth",
    tokens: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: requestedAt + tokens.expiresIn * 1000 },
    // What the customer granted, for support ("why can't it create the property?"); no secrets.
    state: { scopes: metadata.scopes },
  };
}
