import { ProviderConnectError, type OAuthSupport, type ProviderEnvironment, type ProviderTokens } from "@leadsync/core";
import { OAuth2 } from "jsforce";
import { DEFAULT_LOGIN_URL } from "./constants.js";
import { SalesforceApiError, SalesforceReauthRequiredError, redactSecrets } from "./errors.js";

/**
 * Salesforce OAuth 2.0 web-server flow with PKCE, through jsforce's `OAuth2` (its endpoints under the login URL,
 * `env.apiBase`: login.salesforce.com, test.salesforce.com, a My Domain, or the emulator). Salesforce's token answers
 * carry no `expires_in`: a token is good until the session times out, so it is refreshed when Salesforce refuses it.
 */

/** `api` for REST and Pub/Sub, `refresh_token` for offline access. */
const SCOPES = "api refresh_token";

function oauth2(env: ProviderEnvironment, redirectUri?: string): OAuth2 {
  if (env.clientId === undefined) throw new ProviderConnectError("oauth_not_configured", "Salesforce OAuth is not configured (no connected app consumer key)", 422);
  return new OAuth2({
    loginUrl: env.apiBase ?? DEFAULT_LOGIN_URL,
    clientId: env.clientId,
    ...(env.clientSecret === undefined ? {} : { clientSecret: env.clientSecret }),
    ...(redirectUri === undefined ? {} : { redirectUri }),
  });
}

/** The authorize URL; Salesforce's PKCE takes `code_challenge` (S256 is the only method it knows). */
export function salesforceAuthorizeUrl(options: Parameters<OAuthSupport["authorizeUrl"]>[0]): string {
  return oauth2(options.env, options.redirectUri).getAuthorizationUrl({ state: options.state, scope: SCOPES, code_challenge: options.codeChallenge });
}

/** The callback's code (+ PKCE verifier) → tokens; the caller then connects with them. */
export async function exchangeSalesforceCode(options: { code: string; codeVerifier: string; redirectUri: string; env: ProviderEnvironment }): Promise<{
  accessToken: string;
  refreshToken?: string;
  instanceUrl: string;
  orgId?: string;
  identityUrl?: string;
}> {
  let response: Awaited<ReturnType<OAuth2["requestToken"]>>;
  try {
    response = await oauth2(options.env, options.redirectUri).requestToken(options.code, { code_verifier: options.codeVerifier });
  } catch (err) {
    if (isOAuthRefusal(err)) throw new ProviderConnectError("code_rejected", `Salesforce refused the authorization code: ${describe(err)}`, 400);
    throw new ProviderConnectError("unreachable", `Salesforce token endpoint failed: ${describe(err)}`, 502);
  }
  const orgId = /\/id\/(00D[A-Za-z0-9]{12,15})\//.exec(response.id ?? "")?.[1];
  return {
    accessToken: response.access_token,
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
    instanceUrl: response.instance_url,
    ...(orgId === undefined ? {} : { orgId }),
    ...(response.id ? { identityUrl: response.id } : {}),
  };
}

/** `grant_type=refresh_token` → a new access token (and a new refresh token when the org rotates them). */
export async function refreshWithToken(
  refreshToken: string,
  env: ProviderEnvironment,
): Promise<{ accessToken: string; refreshToken?: string; instanceUrl?: string; identityUrl?: string }> {
  try {
    const response = await oauth2(env).refreshToken(refreshToken);
    return {
      accessToken: response.access_token,
      ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
      ...(response.instance_url ? { instanceUrl: response.instance_url } : {}),
      ...(response.id ? { identityUrl: response.id } : {}),
    };
  } catch (err) {
    if (err instanceof ProviderConnectError) throw err;
    if (isOAuthRefusal(err)) throw new SalesforceReauthRequiredError(`Salesforce refused the refresh token (${describe(err)}): connect the integration again`);
    throw new SalesforceApiError(`Salesforce token refresh failed: ${describe(err)}`, { retryable: true, cause: err });
  }
}

/** `refreshTokens` of the provider module: Salesforce sends no expiry, so none is stored. */
export async function refreshSalesforceTokens(tokens: ProviderTokens, env: ProviderEnvironment): Promise<ProviderTokens> {
  if (tokens.refreshToken === undefined) throw new SalesforceReauthRequiredError("the Salesforce integration has no refresh token: connect it again");
  const refreshed = await refreshWithToken(tokens.refreshToken, env);
  return { accessToken: refreshed.accessToken, refreshToken: refreshed.refreshToken ?? tokens.refreshToken };
}

/** jsforce throws the token endpoint's `error` as the error's name (`invalid_grant`, `invalid_client`…). */
function isOAuthRefusal(err: unknown): boolean {
  return err instanceof Error && /^(invalid_grant|invalid_client|invalid_request|unauthorized_client|unsupported_grant_type|inactive_user|inactive_org)$/.test(err.name);
}

function describe(err: unknown): string {
  return redactSecrets(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}
