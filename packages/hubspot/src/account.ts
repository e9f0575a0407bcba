import type { Client } from "@hubspot/api-client";
import { HubSpotApiError, fromHttpError, toHubSpotError } from "./errors.js";

export interface AccountDetails {
  portalId: string;
  /** The account's IANA time zone: its daily API limit resets at midnight there. */
  timeZone?: string;
}

/**
 * Checks a token by asking HubSpot which account it belongs to (`GET /account-info/v3/details`).
 * `apiRequest` answers with a plain fetch `Response` (it does not throw on 4xx/5xx), so statuses are checked here.
 */
export async function checkAccessToken(client: Client): Promise<AccountDetails> {
  let response: Response;
  try {
    response = await client.apiRequest({ method: "GET", path: "/account-info/v3/details" });
  } catch (err) {
    throw toHubSpotError(err, "account details");
  }
  const body: unknown = await response.json().catch(() => ({}));
  if (response.status === 401) {
    const { category, correlationId } = body as { category?: string; correlationId?: string };
    throw new HubSpotApiError("HubSpot rejected the access token (401): it is invalid, expired or revoked", {
      status: 401,
      category: category ?? "INVALID_AUTHENTICATION",
      correlationId,
      retryable: false,
    });
  }
  if (!response.ok) {
    throw fromHttpError(response.status, body, Object.fromEntries(response.headers.entries()), "account details");
  }
  const { portalId, timeZone } = body as { portalId?: number | string; timeZone?: string };
  if (portalId === undefined) {
    throw new HubSpotApiError("HubSpot account details carry no portalId", { status: response.status, retryable: false });
  }
  return { portalId: String(portalId), ...(timeZone ? { timeZone } : {}) };
}
