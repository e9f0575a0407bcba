import { CrmReauthRequiredError, ProviderConnectError, type ConnectedAccount, type OAuthSupport, type ProviderEnvironment, type ProviderTokens } from "@leadsync/core";
import { connectAccount } from "./connect.js";
import { redactSecrets } from "./errors.js";
import { DEFAULT_OAUTH_HOST } from "./state.js";

/**
 * Pipedrive OAuth (Marketplace apps, providers-facts §4.1). The token endpoint takes a form body with HTTP Basic
 * client auth. It is called with fetch rather than the SDK's `OAuth2Configuration`, whose interceptor drops the HTTP
 * status: a 400/401 (refresh token refused: re-authorise) must be told apart from a 5xx (try again).
 *
 * Refresh tokens expire after 60 days unused, and each use resets the 60 days. An integration nobody syncs for two
 * months would lapse, so the lead schedules a refresh of every OAuth integration at `refreshDueAt(tokens)` (30 days
 * after the last refresh, leaving a month of retries) in addition to refreshing near the access token's expiry.
 */
export const REFRESH_IDLE_LIMIT_MS = 60 * 24 * 60 * 60 * 1000;
export const SCHEDULED_REFRESH_AFTER_MS = 30 * 24 * 60 * 60 * 1000;
/** Pipedrive's access tokens live about an hour (`expires_in` 3599). */
const ACCESS_TOKEN_TTL_MS = 3599 * 1000;

/** When to refresh an idle OAuth integration so its refresh token never reaches 60 days unused (ms epoch). */
export function refreshDueAt(tokens: ProviderTokens, now = Date.now()): number {
  if (tokens.refreshToken === undefined) return Number.POSITIVE_INFINITY; // api tokens do not expire
  // the last refresh happened when the current access token was issued
  const lastRefresh = tokens.expiresAt === undefined ? now : tokens.expiresAt - ACCESS_TOKEN_TTL_MS;
  return lastRefresh + SCHEDULED_REFRESH_AFTER_MS;
}

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
  api_domain?: string;
  scope?: string;
}

/** `oauthBase` (its own host in production), else the API override (the emulator serves both), else Pipedrive's. */
function oauthHost(env: ProviderEnvironment): string {
  return (env.oauthBase ?? env.apiBase ?? DEFAULT_OAUTH_HOST).replace(/\/+$/, "");
}

function clientCredentials(env: ProviderEnvironment): { clientId: string; clientSecret: string } {
  if (!env.clientId || !env.clientSecret) throw new ProviderConnectError("oauth_not_configured", "Pipedrive OAuth needs the app's client id and secret", 400);
  return { clientId: env.clientId, clientSecret: env.clientSecret };
}

type TokenResult = { ok: true; token: TokenResponse } | { ok: false; refused: boolean; message: string };

async function postToken(env: ProviderEnvironment, form: Record<string, string>): Promise<TokenResult> {
  const { clientId, clientSecret } = clientCredentials(env);
  let response: Response;
  try {
    response = await fetch(`${oauthHost(env)}/oauth/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`,
      },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(env.requestTimeoutMs),
    });
  } catch (err) {
    return { ok: false, refused: false, message: `Pipedrive's token endpoint could not be reached: ${err instanceof Error ? err.message : String(err)}` };
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: a proxy page
  }
  if (response.ok && typeof body["access_token"] === "string") return { ok: true, token: body as unknown as TokenResponse };
  const reason = typeof body["error"] === "string" ? body["error"] : `HTTP ${response.status}`;
  // 400 invalid_grant: this refresh token (or code) is dead. A 401 is our client credentials: an operator's
  // problem that re-authorising would not fix, so it is not reported as a refusal.
  return { ok: false, refused: response.status === 400 || reason === "invalid_grant", message: redactSecrets(`Pipedrive's token endpoint answered ${response.status} (${reason})`) };
}

function tokensOf(token: TokenResponse, previousRefresh?: string, now = Date.now()): ProviderTokens {
  const refreshToken = token.refresh_token ?? previousRefresh;
  return {
    accessToken: token.access_token,
    ...(refreshToken !== undefined && { refreshToken }),
    ...(typeof token.expires_in === "number" && { expiresAt: now + token.expires_in * 1000 }),
  };
}

export const pipedriveOAuth: OAuthSupport = {
  /** Pipedrive's authorize page; it documents no PKCE, so the code challenge is not sent (the secret stays server-side). */
  authorizeUrl({ state, redirectUri, env }) {
    const url = new URL(`${oauthHost(env)}/oauth/authorize`);
    url.searchParams.set("client_id", clientCredentials(env).clientId);
    url.searchParams.set("redirect_uri", redirectUri);
    url.searchParams.set("state", state);
    return url.toString();
  },

  async exchangeCode({ code, redirectUri, env }): Promise<ConnectedAccount> {
    const result = await postToken(env, { grant_type: "authorization_code", code, redirect_uri: redirectUri });
    if (!result.ok) throw new ProviderConnectError(result.refused ? "code_rejected" : "unreachable", result.message, result.refused ? 400 : 502);
    const apiDomain = env.apiBase ?? result.token.api_domain;
    if (!apiDomain) throw new ProviderConnectError("unreachable", "Pipedrive's token response had no api_domain", 502);
    return connectAccount({ authType: "oauth", tokens: tokensOf(result.token), apiDomain }, env);
  },
};

/** A new access token from the refresh token (Pipedrive keeps the refresh token); a refusal → `CrmReauthRequiredError`. */
export async function refreshPipedriveTokens(tokens: ProviderTokens, env: ProviderEnvironment): Promise<ProviderTokens> {
  if (tokens.refreshToken === undefined) throw new CrmReauthRequiredError("This Pipedrive integration has no refresh token: connect it again");
  const result = await postToken(env, { grant_type: "refresh_token", refresh_token: tokens.refreshToken });
  if (result.ok) return tokensOf(result.token, tokens.refreshToken);
  if (result.refused) throw new CrmReauthRequiredError(`${result.message}: the refresh token is invalid, revoked or was unused for 60 days; connect again`);
  throw new Error(result.message);
}
