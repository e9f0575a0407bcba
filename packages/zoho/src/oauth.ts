import { CrmReauthRequiredError, ProviderConnectError, type OAuthSupport, type ProviderEnvironment, type ProviderIntegration, type ProviderTokens } from "@leadsync/core";
import { requestToken } from "./accounts-api.js";
import { checkedAccount, clientCredentials, clientParams } from "./connect.js";
import { DEFAULT_ACCOUNTS_URL, trustedAccountsServer } from "./data-centres.js";
import { readState } from "./state.js";

/** What we ask for: records, field creation (the marker), notifications, org and current user. */
export const ZOHO_SCOPES = ["ZohoCRM.modules.leads.ALL", "ZohoCRM.settings.fields.ALL", "ZohoCRM.notifications.ALL", "ZohoCRM.org.READ", "ZohoCRM.users.READ"];

/** `env.apiBase` overrides the accounts server (the emulator in development); else Zoho's US server, which redirects per DC. */
export function accountsBase(env: ProviderEnvironment): string {
  return (env.apiBase ?? DEFAULT_ACCOUNTS_URL).replace(/\/+$/, "");
}

export const zohoOAuth: OAuthSupport = {
  authorizeUrl({ state, redirectUri, codeChallenge, env }) {
    const { clientId } = clientCredentials(env);
    const url = new URL(`${accountsBase(env)}/oauth/v2/auth`);
    url.search = new URLSearchParams({
      scope: ZOHO_SCOPES.join(","),
      client_id: clientId,
      response_type: "code",
      access_type: "offline",
      prompt: "consent",
      redirect_uri: redirectUri,
      state,
      code_challenge: codeChallenge,
      code_challenge_method: "S256",
    }).toString();
    return url.toString();
  },

  /** The code is exchanged at the callback's `accounts-server` (its data centre), which must be one of Zoho's. */
  async exchangeCode({ code, codeVerifier, redirectUri, query, env }) {
    const accountsUrl = trustedAccountsServer(query["accounts-server"], env.apiBase, query["location"]);
    if (!accountsUrl) throw new ProviderConnectError("account_mismatch", `untrusted accounts-server in the callback: ${query["accounts-server"] ?? ""}`, 400);
    const tokens = await requestToken(
      accountsUrl,
      { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: codeVerifier, ...clientParams(clientCredentials(env)) },
      env.requestTimeoutMs,
    ).catch((err: unknown) => {
      if (err instanceof CrmReauthRequiredError) throw new ProviderConnectError("token_rejected", `Zoho refused the authorization code (${err.message})`, 400);
      throw err;
    });
    if (!tokens.refreshToken) throw new ProviderConnectError("token_rejected", "Zoho issued no refresh token (access_type=offline missing?)", 422);
    return checkedAccount({ ...tokens, refreshToken: tokens.refreshToken }, accountsUrl, env);
  },
};

/**
 * A new access token from the stored refresh token at the org's accounts server. A refused refresh token throws
 * `CrmReauthRequiredError` (needs_reauth); Zoho's mint block throws `CrmRateLimitedError` (the caller waits).
 * The caller makes sure only one process refreshes an integration at a time (10 mints per 10 minutes).
 */
export async function refreshZohoTokens(tokens: ProviderTokens, integration: ProviderIntegration, env: ProviderEnvironment): Promise<ProviderTokens> {
  if (!tokens.refreshToken) throw new CrmReauthRequiredError("Zoho integration has no refresh token");
  const state = readState(integration.state);
  const reply = await requestToken(state.accountsUrl, { grant_type: "refresh_token", refresh_token: tokens.refreshToken, ...clientParams(clientCredentials(env)) }, env.requestTimeoutMs);
  return { accessToken: reply.accessToken, refreshToken: tokens.refreshToken, expiresAt: Date.now() + reply.expiresInSeconds * 1000 };
}
