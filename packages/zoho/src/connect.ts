import { CrmRateLimitedError, ProviderConnectError, type ConnectedAccount, type ProviderEnvironment } from "@leadsync/core";
import { z } from "zod";
import { requestToken, ZohoTokenRefusedError, type TokenReply } from "./accounts-api.js";
import { editionOf } from "./budget.js";
import { ZohoApiError } from "./errors.js";
import { ZohoHttp } from "./http.js";
import { createLeadTextField, getCurrentUserId, getOrg, listLeadFields } from "./metadata-api.js";
import type { ZohoState } from "./state.js";

/** The marker field's label; Zoho generates its api_name (usually `Lead_Source_System`), which is read back. */
export const MARKER_FIELD_LABEL = "Lead Source System";

/** `POST /api/v1/crm-integration` for Zoho (the emulator's `connect` has exactly this shape). */
export const zohoConnectBody = z.object({
  provider: z.literal("zoho").optional(),
  refreshToken: z.string().min(1),
  apiDomain: z.string().url(),
  accountsUrl: z.string().url(),
  /** the OAuth client that issued the refresh token (a self client); default the platform's */
  clientId: z.string().min(1).optional(),
});
export type ZohoConnectBody = z.infer<typeof zohoConnectBody>;

export function clientCredentials(env: ProviderEnvironment, clientId?: string): { clientId: string; clientSecret: string } {
  const id = clientId ?? env.clientId;
  if (!id || !env.clientSecret) throw new ProviderConnectError("client_not_configured", "Zoho OAuth client id/secret are not configured (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET)", 422);
  return { clientId: id, clientSecret: env.clientSecret };
}

/** Refresh token → checked account: org id, current user, marker field (created where allowed). */
export async function connectWithRefreshToken(body: ZohoConnectBody, env: ProviderEnvironment): Promise<ConnectedAccount> {
  const client = clientCredentials(env, body.clientId);
  const tokens = await mintForConnect(body.accountsUrl, { grant_type: "refresh_token", refresh_token: body.refreshToken, ...clientParams(client) }, env);
  const warnings = tokens.apiDomain.replace(/\/+$/, "") === body.apiDomain.replace(/\/+$/, "") ? [] : [`Zoho's token names api_domain ${tokens.apiDomain}; it is used instead of ${body.apiDomain}`];
  return checkedAccount({ ...tokens, refreshToken: body.refreshToken }, body.accountsUrl, env, warnings);
}

/** A token reply (from a code or a refresh token) → the account, checked against the CRM. */
export async function checkedAccount(tokens: TokenReply & { refreshToken: string }, accountsUrl: string, env: ProviderEnvironment, warnings: string[] = []): Promise<ConnectedAccount> {
  const http = new ZohoHttp({ apiDomain: tokens.apiDomain, getAccessToken: async () => tokens.accessToken, timeoutMs: env.requestTimeoutMs });
  try {
    const org = await getOrg(http);
    const userId = await getCurrentUserId(http);
    const markerField = await ensureMarkerField(http);
    const state: ZohoState = { apiDomain: tokens.apiDomain, accountsUrl: new URL(accountsUrl).origin, userId, markerField, edition: editionOf(org.paidType), users: org.users };
    return {
      externalAccountId: org.id,
      authType: "oauth",
      tokens: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: Date.now() + tokens.expiresInSeconds * 1000 },
      state,
      tier: state.edition,
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  } catch (err) {
    throw asConnectError(err);
  }
}

/**
 * Finds the marker field by label (or the usual api_name), else creates it and reads its generated api_name back.
 * Without the permission to add fields the customer's admin must add it: the error says exactly what to add.
 */
export async function ensureMarkerField(http: ZohoHttp): Promise<string> {
  const find = async (id?: string) => {
    const fields = await listLeadFields(http);
    return (
      (id === undefined ? undefined : fields.find((f) => f.id === id)) ??
      fields.find((f) => f.field_label.toLowerCase() === MARKER_FIELD_LABEL.toLowerCase()) ??
      fields.find((f) => f.api_name === "Lead_Source_System")
    )?.api_name;
  };
  const existing = await find();
  if (existing) return existing;
  let created: { code: string; id: string | undefined };
  try {
    created = await createLeadTextField(http, MARKER_FIELD_LABEL);
  } catch (err) {
    if (err instanceof ZohoApiError && (err.code === "NO_PERMISSION" || err.code === "OAUTH_SCOPE_MISMATCH")) throw markerFieldMissing();
    throw err;
  }
  // DUPLICATE_DATA: another connect created it meanwhile
  const apiName = created.code === "SUCCESS" || created.code === "DUPLICATE_DATA" ? await find(created.id) : undefined;
  if (!apiName) throw markerFieldMissing();
  return apiName;
}

function markerFieldMissing(): ProviderConnectError {
  return new ProviderConnectError(
    "marker_field_missing",
    `Ask a Zoho CRM administrator to add a single-line text field labelled "${MARKER_FIELD_LABEL}" (255 characters) to the Leads module (Setup → Modules and Fields → Leads), then connect again; or connect with an administrator's consent (scope ZohoCRM.settings.fields.ALL).`,
    409,
    { module: "Leads", fieldLabel: MARKER_FIELD_LABEL, dataType: "text", length: 255 },
  );
}

async function mintForConnect(accountsUrl: string, params: Record<string, string>, env: ProviderEnvironment): Promise<TokenReply> {
  try {
    return await requestToken(accountsUrl, params, env.requestTimeoutMs);
  } catch (err) {
    throw asConnectError(err);
  }
}

export function clientParams(client: { clientId: string; clientSecret: string }): Record<string, string> {
  return { client_id: client.clientId, client_secret: client.clientSecret };
}

function asConnectError(err: unknown): unknown {
  if (err instanceof ProviderConnectError) return err;
  if (err instanceof ZohoTokenRefusedError) return new ProviderConnectError("token_rejected", `Zoho refused the credentials (${err.error}); connect again`, 422);
  if (err instanceof CrmRateLimitedError) return new ProviderConnectError("rate_limited", err.message, 502);
  if (err instanceof ZohoApiError) {
    if (err.status === 401) return new ProviderConnectError("token_rejected", err.message, 422);
    if (err.status === 403) return new ProviderConnectError("permission_missing", err.message, 422);
    return new ProviderConnectError("unreachable", err.message, 502);
  }
  return err;
}
