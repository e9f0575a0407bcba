import { CrmReauthRequiredError, ProviderConnectError, type ConnectedAccount, type ProviderEnvironment, type ProviderLogger, type ProviderTokens } from "@leadsync/core";
import { z } from "zod";
import { PIPEDRIVE_PLANS, type PipedrivePlan } from "./budget.js";
import { PipedriveApiError } from "./errors.js";
import { UNLIMITED, PipedriveSession } from "./session.js";
import { apiDomainOf, companyUrl, type PipedriveState } from "./state.js";

/** The marker field's name in Pipedrive (the setup guide's Step 1). Its key differs per account. */
export const MARKER_FIELD_NAME = "Lead Source System";

/** `POST /api/v1/crm-integration` `{ provider: "pipedrive", apiToken, companyDomain? }` (provider is checked by the API). */
export const connectBodySchema = z.looseObject({
  apiToken: z.string().trim().min(1, "apiToken is required"),
  companyDomain: z.string().trim().min(1).optional(),
  /** the company's plan, for its API budget (Pipedrive's API does not say); default growth */
  plan: z.enum(PIPEDRIVE_PLANS).optional(),
  /** paid seats, for the daily budget; default the active users counted at connect */
  seats: z.number().int().min(1).optional(),
});
export type PipedriveConnectBody = z.infer<typeof connectBodySchema>;

const silentLogger: ProviderLogger = { info() {}, warn() {}, error() {}, debug() {}, child: () => silentLogger };

/**
 * Checks the credentials and prepares the account: `users/me` gives the company (the integration's external id) and
 * our user (echo detection); the marker field is found by name or created through personFields and its key kept.
 */
export async function connectAccount(
  input: { authType: "private_app" | "oauth"; tokens: ProviderTokens; apiDomain: string; companyDomain?: string | undefined; plan?: PipedrivePlan | undefined; seats?: number | undefined },
  env: ProviderEnvironment,
  logger: ProviderLogger = silentLogger,
): Promise<ConnectedAccount> {
  const session = new PipedriveSession({ apiDomain: input.apiDomain, authType: input.authType, getAccessToken: async () => input.tokens.accessToken, limiter: UNLIMITED, logger, timeoutMs: env.requestTimeoutMs });
  const me = await guard(() => session.call("users me", (api) => api.users.getCurrentUser()));
  const user = me.data as { id?: number; company_id?: number; company_domain?: string } | undefined;
  if (user?.id === undefined || user.company_id === undefined) throw new ProviderConnectError("unreachable", "Pipedrive's users/me answered without a user or company", 502);
  if (input.companyDomain !== undefined && user.company_domain !== undefined && bareDomain(input.companyDomain) !== user.company_domain) {
    throw new ProviderConnectError("account_mismatch", `The token belongs to the company domain ${user.company_domain}, not ${input.companyDomain}`, 422);
  }
  const markerField = await ensureMarkerField(session);
  const state: PipedriveState = {
    apiDomain: input.apiDomain,
    userId: String(user.id),
    markerField,
    seats: input.seats ?? (await activeUsers(session)),
    ...(user.company_domain !== undefined && { companyDomain: user.company_domain }),
  };
  return { externalAccountId: String(user.company_id), authType: input.authType, tokens: input.tokens, tier: input.plan ?? "growth", state: { ...state } };
}

/** The api-token connect: the environment's base URL (the emulator) or the company's own domain. */
export function connectWithApiToken(body: PipedriveConnectBody, env: ProviderEnvironment): Promise<ConnectedAccount> {
  const apiDomain = env.apiBase ?? (body.companyDomain ? companyUrl(body.companyDomain) : apiDomainOf({}, env));
  return connectAccount({ authType: "private_app", tokens: { accessToken: body.apiToken }, apiDomain, companyDomain: body.companyDomain, plan: body.plan, seats: body.seats }, env);
}

/** Seats are at least the active users: the daily budget's multiplier when nobody says better (a lower bound, so safe). */
async function activeUsers(session: PipedriveSession): Promise<number> {
  try {
    const users = await session.call("users list", (api) => api.users.getUsers());
    return Math.max(1, (users.data ?? []).filter((u) => u.active_flag !== false && u.is_deleted !== true).length);
  } catch {
    return 1; // a token that may not list users: the smallest budget
  }
}

/** Custom fields have `edit_flag: true`; the marker is the one named "Lead Source System" (any case). */
async function ensureMarkerField(session: PipedriveSession): Promise<string> {
  for (let start = 0; ; ) {
    const page = await guard(() => session.call("personFields list", (api) => api.personFields.getPersonFields({ start, limit: 500 })));
    const field = (page.data ?? []).find((f) => f.edit_flag === true && f.name?.trim().toLowerCase() === MARKER_FIELD_NAME.toLowerCase());
    if (field?.key) return field.key;
    const pagination = (page.additional_data as { pagination?: { more_items_in_collection?: boolean; next_start?: number } } | undefined)?.pagination;
    if (!pagination?.more_items_in_collection || pagination.next_start === undefined) break;
    start = pagination.next_start;
  }
  try {
    const created = await session.call("personField create", (api) => api.personFields.addPersonField({ CreateFieldRequest: { name: MARKER_FIELD_NAME, field_type: "varchar" } }));
    if (created.data?.key) return created.data.key;
  } catch (err) {
    if (err instanceof PipedriveApiError && err.status === 403) {
      throw new ProviderConnectError(
        "marker_field_missing",
        `Pipedrive did not let this token create the person field "${MARKER_FIELD_NAME}" (admin scope or admin user needed): ask a Pipedrive admin to add a text field with that name, then connect again`,
        422,
      );
    }
    throw asConnectError(err);
  }
  throw new ProviderConnectError("unreachable", "Pipedrive created the marker field without returning its key", 502);
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw asConnectError(err);
  }
}

function asConnectError(err: unknown): ProviderConnectError {
  if (err instanceof ProviderConnectError) return err;
  if (err instanceof CrmReauthRequiredError) return new ProviderConnectError("token_rejected", "Pipedrive refused the token", 422);
  if (err instanceof PipedriveApiError && err.status === 402) return new ProviderConnectError("account_closed", "The Pipedrive company account is not open", 422);
  return new ProviderConnectError("unreachable", `Pipedrive could not be reached: ${err instanceof Error ? err.message : String(err)}`, 502);
}

function bareDomain(domain: string): string {
  return domain.replace(/^https?:\/\//, "").replace(/\.pipedrive\.com\/?$/, "").replace(/\/+$/, "");
}
