import { CrmRateLimitedError, CrmReauthRequiredError } from "@leadsync/core";
import { isRecord, ZohoApiError } from "./errors.js";

/**
 * Zoho Accounts (`{accounts-server}/oauth/v2/token`). Errors come back as HTTP 200 `{"error":"invalid_code"}`;
 * more than 10 mints per 10 minutes per refresh token answers `Access Denied` (providers-facts §3.1).
 */
export interface TokenReply {
  accessToken: string;
  refreshToken: string | undefined;
  apiDomain: string;
  expiresInSeconds: number;
}

/** The token-minting block lasts the rest of a 10-minute window. */
export const MINT_BLOCK_PAUSE_MS = 10 * 60_000;

export class ZohoTokenRefusedError extends CrmReauthRequiredError {
  override readonly name = "ZohoTokenRefusedError";
  constructor(readonly error: string) {
    super(`Zoho refused the token request: ${error}`);
  }
}

export async function requestToken(accountsUrl: string, params: Record<string, string>, timeoutMs: number): Promise<TokenReply> {
  let response: Response;
  try {
    response = await fetch(`${accountsUrl.replace(/\/+$/, "")}/oauth/v2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ZohoApiError(`Zoho accounts server unreachable: ${(err as Error).message}`, undefined, undefined);
  }
  if (response.status >= 500) throw new ZohoApiError(`Zoho accounts server answered ${response.status}`, response.status, undefined);
  const body: unknown = await response.json().catch(() => undefined);
  if (!isRecord(body)) throw new ZohoApiError(`Zoho accounts server answered ${response.status} without JSON`, response.status, undefined);
  if (body["error"] === "Access Denied") {
    throw new CrmRateLimitedError("Zoho blocks new access tokens for this refresh token (more than 10 in 10 minutes)", {
      retryAfterMs: MINT_BLOCK_PAUSE_MS,
      policy: "TOKEN_MINTS",
    });
  }
  if (typeof body["error"] === "string") throw new ZohoTokenRefusedError(body["error"]);
  if (typeof body["access_token"] !== "string" || typeof body["api_domain"] !== "string") {
    throw new ZohoApiError(`Zoho token reply without access_token/api_domain (HTTP ${response.status})`, response.status, undefined);
  }
  return {
    accessToken: body["access_token"],
    refreshToken: typeof body["refresh_token"] === "string" ? body["refresh_token"] : undefined,
    apiDomain: body["api_domain"],
    expiresInSeconds: typeof body["expires_in"] === "number" ? body["expires_in"] : 3600,
  };
}
