import { ProviderConnectError, type ConnectedAccount, type ProviderEnvironment } from "@leadsync/core";
import type { Connection } from "jsforce";
import { z } from "zod";
import { DEFAULT_MARKER_FIELD, SALESFORCE_API_VERSION } from "./constants.js";
import { SalesforceApiError, errorCodeOf, toSalesforceError } from "./errors.js";
import type { SalesforceEdition } from "./budget.js";
import { refreshWithToken } from "./oauth-tokens.js";
import { createConnection, requestOptions, type JsforceRequestOptions } from "./session.js";

/** `POST /api/v1/crm-integration`'s Salesforce part: exactly what the emulator's `connect` gives (and an OAuth exchange produces). */
export const salesforceConnectBody = z.object({
  instanceUrl: z.url({ protocol: /^https?$/ }),
  accessToken: z.string().min(1),
  /** An empty string (the emulator's token-less connect) means none. */
  refreshToken: z.string().optional(),
  /** The Pub/Sub API endpoint, `grpcs://host:port` or `grpc://host:port` (an emulator); default Salesforce's. */
  pubSubUrl: z.string().regex(/^grpcs?:\/\/[^/\s]+\/?$/).optional(),
  /** Expected org (15 or 18 characters): connecting another org's token is refused. */
  orgId: z.string().regex(/^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/).optional(),
});
export type SalesforceConnectBody = z.infer<typeof salesforceConnectBody>;

/** What we keep with the integration (`settings.provider`); never secrets. */
export interface SalesforceState {
  instanceUrl: string;
  /** The integration user: CDC `commitUser` of our writes when `changeOrigin` names no client. */
  userId?: string;
  markerField: string;
  apiVersion: string;
  pubSubUrl?: string;
  /** `GET /limits` → DailyApiRequests.Max at connect: the org's exact rolling 24 h allowance (add-ons included). */
  dailyApiRequests?: number;
}

/** Lead describe, as far as we read it. */
interface DescribeField {
  name: string;
  type?: string;
  length?: number;
  createable?: boolean;
  updateable?: boolean;
  restrictedPicklist?: boolean;
  picklistValues?: Array<{ value: string; active?: boolean }>;
}

const MARKER_LABEL = "Lead Source System";

type RequestOptions = JsforceRequestOptions;

/**
 * Checks the token (the API root answers and names the org and user), then makes sure Lead has the marker field:
 * found by describe, else created with the Tooling API (the user needs "Customize Application"), else refused with
 * exactly what an admin must add.
 */
export async function connectSalesforce(
  body: SalesforceConnectBody,
  env: ProviderEnvironment,
  options: { authType?: ConnectedAccount["authType"]; /** the token reply's `id` (identity URL), when we have one */ identityUrl?: string } = {},
): Promise<ConnectedAccount> {
  // jsforce's own request timeout is 30 minutes, and it would retry GETs behind our back
  const http = requestOptions(env.requestTimeoutMs);
  let accessToken = body.accessToken;
  let refreshToken = body.refreshToken === "" ? undefined : body.refreshToken;
  let instanceUrl = stripSlash(body.instanceUrl);
  let identityUrl = options.identityUrl;
  let identity: Identity;
  try {
    identity = await readIdentity(createConnection({ instanceUrl, accessToken }), http, identityUrl, body.orgId);
  } catch (err) {
    // A stale access token with a refresh token we can use: refresh once rather than refuse the customer.
    if (errorCodeOf(err) !== "INVALID_SESSION_ID" || refreshToken === undefined || env.clientId === undefined) throw connectFailure(err);
    const refreshed = await refreshWithToken(refreshToken, env).catch((refreshErr: unknown) => {
      throw new ProviderConnectError("token_rejected", `Salesforce refused the access token and its refresh token: ${messageOf(refreshErr)}`, 422);
    });
    accessToken = refreshed.accessToken;
    refreshToken = refreshed.refreshToken ?? refreshToken;
    instanceUrl = refreshed.instanceUrl ?? instanceUrl;
    identityUrl = refreshed.identityUrl ?? identityUrl;
    identity = await readIdentity(createConnection({ instanceUrl, accessToken }), http, identityUrl, body.orgId).catch((again: unknown) => {
      throw connectFailure(again);
    });
  }
  if (body.orgId !== undefined && to18(body.orgId.slice(0, 15)) !== to18(identity.orgId.slice(0, 15))) {
    throw new ProviderConnectError("account_mismatch", `the token belongs to Salesforce org ${identity.orgId}, not ${body.orgId}`, 422);
  }

  const connection = createConnection({ instanceUrl, accessToken });
  const warnings: string[] = [];
  if (identity.userId === undefined) {
    warnings.push("Salesforce did not name the connecting user: our own writes are recognised by their client id only (changeOrigin), not by the integration user.");
  }
  const markerField = DEFAULT_MARKER_FIELD;
  const marker = (await describeLead(connection, http)).find((f) => f.name.toLowerCase() === markerField.toLowerCase());
  if (!marker) {
    await createMarkerField(connection, http, markerField, env.marker);
    const created = (await describeLead(connection, http)).find((f) => f.name.toLowerCase() === markerField.toLowerCase());
    if (!created || created.createable === false || created.updateable === false) throw markerFieldUnusable(markerField, "was created, but the connecting user cannot edit it");
    warnings.push(`Created the Lead field "${MARKER_LABEL}" (${markerField}): it marks the leads that ${env.marker} created.`);
  } else if (marker.createable === false || marker.updateable === false) {
    throw markerFieldUnusable(markerField, "exists, but the connecting user cannot edit it");
  } else {
    const problem = markerValueProblem(marker, env.marker);
    if (problem) throw new ProviderConnectError("marker_field_unusable", `The Lead field ${markerField} ${problem}. Ask a Salesforce admin to fix it (Setup → Object Manager → Lead → Fields & Relationships → ${MARKER_LABEL}), then connect again.`, 422);
  }

  const profile = await readOrgProfile(connection, http);
  const state: SalesforceState = { instanceUrl, ...(identity.userId === undefined ? {} : { userId: identity.userId }), markerField,
    apiVersion: SALESFORCE_API_VERSION,
    ...(body.pubSubUrl === undefined ? {} : { pubSubUrl: body.pubSubUrl }),
    ...(profile.dailyApiRequests === undefined ? {} : { dailyApiRequests: profile.dailyApiRequests }),
  };
  return {
    externalAccountId: identity.orgId,
    authType: options.authType ?? (refreshToken === undefined ? "private_app" : "oauth"),
    tokens: { accessToken, ...(refreshToken === undefined ? {} : { refreshToken }) },
    tier: profile.edition,
    state: { ...state },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

interface Identity {
  orgId: string;
  userId: string | undefined;
}

const IDENTITY_PATH = /\/id\/(00D[A-Za-z0-9]{12,15})\/(005[A-Za-z0-9]{12,15})/;

/**
 * `GET /services/data/vXX.X` checks the token; its `identity` (or the token reply's `id`) is the identity URL
 * `…/id/<orgId>/<userId>`, which names the org and the user (18-character ids) without another call. Without
 * either, an expected `orgId` from the connect body stands for the org, and the user stays unknown.
 */
async function readIdentity(connection: Connection, http: RequestOptions, identityUrl: string | undefined, expectedOrgId: string | undefined): Promise<Identity> {
  const root = await connection.request<{ identity?: string }>(`/services/data/v${SALESFORCE_API_VERSION}`, http);
  const url = typeof root?.identity === "string" ? root.identity : identityUrl;
  const fromUrl = url === undefined ? null : IDENTITY_PATH.exec(url);
  if (fromUrl) return { orgId: fromUrl[1] as string, userId: fromUrl[2] as string };
  if (url !== undefined) {
    const identity = await connection.request<{ organization_id: string; user_id: string }>(url, http);
    return { orgId: identity.organization_id, userId: identity.user_id };
  }
  // A Salesforce session id starts with the org's 15-character id and "!": enough to name the org, not the user.
  const prefix = /^(00D[A-Za-z0-9]{12})!/.exec(connection.accessToken ?? "")?.[1];
  if (prefix !== undefined) return { orgId: to18(prefix), userId: undefined };
  if (expectedOrgId !== undefined) return { orgId: to18(expectedOrgId), userId: undefined };
  throw new ProviderConnectError("identity_unavailable", "Salesforce did not say which org the token belongs to (no identity URL); pass orgId", 422);
}

/**
 * The org's edition (the integration's tier: the concurrency cap, the allowance when /limits is silent) and its
 * exact daily allowance. Neither is worth refusing a connection over: an org that does not answer gets the
 * smallest edition's figures until it does.
 */
async function readOrgProfile(connection: Connection, http: RequestOptions): Promise<{ edition: SalesforceEdition; dailyApiRequests?: number }> {
  let dailyApiRequests: number | undefined;
  try {
    const limits = await connection.request<{ DailyApiRequests?: { Max?: number } }>("/limits", http);
    const max = limits.DailyApiRequests?.Max;
    if (typeof max === "number" && max > 0) dailyApiRequests = max;
  } catch (err) {
    if (isTransient(err)) throw connectFailure(err);
  }
  let edition: SalesforceEdition | undefined;
  try {
    const soql = "SELECT OrganizationType, IsSandbox, TrialExpirationDate FROM Organization LIMIT 1";
    const result = await connection.request<{ records?: Array<{ OrganizationType?: string; TrialExpirationDate?: string | null }> }>(`/query?q=${encodeURIComponent(soql)}`, http);
    const org = result.records?.[0];
    if (org) edition = org.TrialExpirationDate ? "trial" : EDITIONS[String(org.OrganizationType)];
  } catch (err) {
    if (isTransient(err)) throw connectFailure(err);
  }
  edition ??= dailyApiRequests !== undefined && dailyApiRequests > 15_000 ? "enterprise" : "developer";
  return { edition, ...(dailyApiRequests === undefined ? {} : { dailyApiRequests }) };
}

/** Organization.OrganizationType → our edition names. */
const EDITIONS: Readonly<Record<string, SalesforceEdition>> = {
  "Developer Edition": "developer",
  "Professional Edition": "professional",
  "Enterprise Edition": "enterprise",
  "Unlimited Edition": "unlimited",
  "Performance Edition": "performance",
};

function isTransient(err: unknown): boolean {
  const mapped = toSalesforceError(err, "org profile");
  return !(mapped instanceof SalesforceApiError) || mapped.retryable;
}

async function describeLead(connection: Connection, http: RequestOptions): Promise<DescribeField[]> {
  try {
    const describe = await connection.request<{ fields?: DescribeField[] }>("/sobjects/Lead/describe", http);
    return describe.fields ?? [];
  } catch (err) {
    throw connectFailure(err);
  }
}

/** Tooling API `CustomField`: Text(255), so any marker value fits (a picklist would have to list each value). */
async function createMarkerField(connection: Connection, http: RequestOptions, markerField: string, marker: string): Promise<void> {
  try {
    const metadata = {
      label: MARKER_LABEL,
      type: "Text",
      length: 255,
      required: false,
      externalId: false,
      unique: false,
      description: `Set to "${marker}" on the leads ${marker} created (LeadSync); keeps records from syncing in a loop.`,
      inlineHelpText: `Which system created this lead. Set by the ${marker} integration; leave as is.`,
    };
    const body = JSON.stringify({ FullName: `Lead.${markerField}`, Metadata: metadata });
    await connection.request({ method: "POST", url: "/tooling/sobjects/CustomField", headers: { "content-type": "application/json" }, body }, http);
  } catch (err) {
    const mapped = toSalesforceError(err, "marker field creation");
    if (mapped instanceof SalesforceApiError && mapped.retryable) throw connectFailure(err);
    // Describe did not show it, yet it exists: field-level security hides it from the connecting user.
    if (errorCodeOf(err) === "DUPLICATE_DEVELOPER_NAME") throw markerFieldUnusable(markerField, "exists, but is hidden from the connecting user by field-level security");
    throw markerFieldUnusable(markerField, `does not exist, and the connecting user may not create it (${mapped.message})`);
  }
}

/** Why the existing field cannot hold the marker value, if it cannot: a restricted picklist without it, too short a text. */
function markerValueProblem(field: DescribeField, marker: string): string | undefined {
  if (field.type === "picklist" && field.restrictedPicklist === true && !(field.picklistValues ?? []).some((v) => v.value === marker && v.active !== false)) {
    return `is a restricted picklist without the value "${marker}": add "${marker}" as an active value`;
  }
  if ((field.type === "string" || field.type === "textarea") && typeof field.length === "number" && field.length > 0 && field.length < marker.length) {
    return `is a text field of length ${field.length}, too short for "${marker}": make it at least ${marker.length} (255 recommended)`;
  }
  if (field.type !== undefined && !["string", "textarea", "picklist", "combobox"].includes(field.type)) return `has type ${field.type}; it must be Text or Picklist`;
  return undefined;
}

/** Precisely what a Salesforce admin must add before the integration can connect. */
function markerFieldUnusable(markerField: string, why: string): ProviderConnectError {
  const name = markerField.replace(/__c$/, "");
  return new ProviderConnectError(
    "marker_field_missing",
    `The Lead field ${markerField} ${why}. Ask a Salesforce admin to: Setup → Object Manager → Lead → Fields & Relationships → New; ` +
      `Data Type "Text", Length 255; Field Label "${MARKER_LABEL}", Field Name "${name}" (API name ${markerField}); not required, not unique, not an external ID; ` +
      `at "Establish field-level security" make it Visible and not Read-Only for the profile of the user who connects (or add Read and Edit on Lead.${markerField} to a permission set assigned to that user); ` +
      `no page layout is needed. Then connect again. (Alternatively give the connecting user "Customize Application" and LeadSync creates the field itself.)`,
    422,
  );
}

/** The 18-character, case-safe form of a 15-character id (a checksum letter per 5 characters' upper-case pattern). */
export function to18(id: string): string {
  if (id.length !== 15) return id;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  let suffix = "";
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const ch = id.charAt(block * 5 + i);
      if (ch >= "A" && ch <= "Z") bits |= 1 << i;
    }
    suffix += alphabet.charAt(bits);
  }
  return id + suffix;
}

function connectFailure(err: unknown): ProviderConnectError {
  if (err instanceof ProviderConnectError) return err;
  const code = errorCodeOf(err);
  const mapped = toSalesforceError(err, "connection check");
  if (code === "INVALID_SESSION_ID") return new ProviderConnectError("token_rejected", "Salesforce refused the access token (INVALID_SESSION_ID): it is expired or revoked", 422);
  if (code === "API_DISABLED_FOR_ORG" || code === "API_CURRENTLY_DISABLED") {
    return new ProviderConnectError("api_disabled", "This Salesforce org or user has no API access (an edition with API, and the \"API Enabled\" permission, are needed)", 422);
  }
  if (mapped instanceof SalesforceApiError && !mapped.retryable) return new ProviderConnectError("refused", mapped.message, 422);
  return new ProviderConnectError("unreachable", mapped.message, 502);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
