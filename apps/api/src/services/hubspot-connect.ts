import type { Config } from "@leadsync/config";
import { LEAD_SOURCE_PROPERTY } from "@leadsync/core";
import {
  checkAccessToken,
  createHubSpotClient,
  ensureLeadSourceProperty,
  HubSpotApiError,
  InvalidRefreshTokenError,
  refreshAccessToken,
} from "@leadsync/hubspot";
import { AppError, BadGatewayError, BadRequestError, UnprocessableError } from "../errors.js";

/** What the caller gives to connect a portal: a private-app token, or an OAuth refresh token. */
export type HubSpotCredentials = { accessToken: string } | { refreshToken: string };

export interface VerifiedConnection {
  authType: "private_app" | "oauth";
  accessToken: string;
  refreshToken?: string;
  accessTokenExpiresAt?: Date;
}

/**
 * HubSpot failures while connecting → API errors. HubSpot refusing the credentials is the caller's problem (422,
 * with HubSpot's reason); HubSpot being down or unreachable is not (502). Messages come from HubSpot's error body
 * (HubSpotApiError never includes the request), so they carry no token.
 */
function toConnectError(err: unknown, step: string): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof InvalidRefreshTokenError) {
    return new UnprocessableError("hubspot_refresh_token_rejected", `HubSpot rejected the refresh token while ${step}: ${err.message}`);
  }
  if (err instanceof HubSpotApiError && err.status !== undefined && err.status < 500 && err.status !== 429) {
    const reason = err.status === 401 ? "the token is invalid, expired or revoked" : err.message;
    return new UnprocessableError("hubspot_token_rejected", `HubSpot rejected the credentials while ${step} (HTTP ${err.status}): ${reason}`);
  }
  const detail = err instanceof Error ? err.message : "unknown error";
  return new BadGatewayError("hubspot_unavailable", `HubSpot could not be reached while ${step}: ${detail}`);
}

/**
 * Checks the credentials against HubSpot once: an OAuth refresh token is exchanged for an access token; the token's
 * portal must be the one the caller named; the `lead_source_system` property (with the marker among its options) is
 * ensured, so the first push can set it. Nothing is stored here.
 */
export async function verifyHubSpotConnection(
  config: Config,
  portalId: string,
  credentials: HubSpotCredentials,
): Promise<VerifiedConnection> {
  const basePath = config.hubspot.apiBase;
  let connection: VerifiedConnection;
  if ("refreshToken" in credentials) {
    const { clientId, clientSecret } = config.hubspot;
    if (!clientId) {
      throw new UnprocessableError("oauth_not_configured", "Connecting with a refresh token needs HUBSPOT_CLIENT_ID (and HUBSPOT_CLIENT_SECRET) configured on the server");
    }
    const refreshed = await refreshAccessToken({ basePath, clientId, clientSecret, refreshToken: credentials.refreshToken }).catch(
      (err: unknown) => {
        throw toConnectError(err, "refreshing the OAuth token");
      },
    );
    connection = {
      authType: "oauth",
      accessToken: refreshed.accessToken,
      refreshToken: refreshed.refreshToken,
      accessTokenExpiresAt: new Date(refreshed.expiresAt),
    };
  } else {
    connection = { authType: "private_app", accessToken: credentials.accessToken };
  }

  const client = createHubSpotClient({ accessToken: connection.accessToken, basePath });
  const account = await checkAccessToken(client).catch((err: unknown) => {
    throw toConnectError(err, "checking the token");
  });
  if (String(account.portalId) !== portalId) {
    throw new BadRequestError("portal_mismatch", `The token belongs to HubSpot portal ${account.portalId}, not ${portalId}`, [
      { field: "portalId", message: `the token's portal is ${account.portalId}` },
    ]);
  }
  await ensureLeadSourceProperty(client, config.leadSourceMarker).catch((err: unknown) => {
    throw toConnectError(err, `creating the ${LEAD_SOURCE_PROPERTY} property`);
  });
  return connection;
}
