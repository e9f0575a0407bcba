import type { ClientContext, CrmProviderModule, FieldMapping } from "@leadsync/core";
import { enableChannel, renewChannel } from "./change-feed.js";
import { connectWithRefreshToken, zohoConnectBody, type ZohoConnectBody } from "./connect.js";
import { ZohoHttp } from "./http.js";
import { refreshZohoTokens, zohoOAuth } from "./oauth.js";
import { parseZohoChanges } from "./parse-changes.js";
import { readState, zohoState } from "./state.js";
import { rateLimitOverride, ZOHO_EDITIONS, zohoRatePolicy, type ZohoEdition } from "./budget.js";
import { zohoWebhookVerifier } from "./webhook-verifier.js";
import { ZohoLeadClient } from "./zoho-client.js";

/** Lead field → Zoho Leads field (API names; `Designation` is the Title field). */
export const ZOHO_FIELD_MAPPING: FieldMapping = Object.freeze({
  email: "Email",
  firstName: "First_Name",
  lastName: "Last_Name",
  phone: "Phone",
  company: "Company",
  jobTitle: "Designation",
});

/** The HTTP layer of one integration: its api_domain, tokens and shared budget. */
export function zohoHttpFor(context: ClientContext): ZohoHttp {
  const state = readState(context.integration.state);
  return new ZohoHttp({
    apiDomain: state.apiDomain,
    getAccessToken: (options) => context.getAccessToken(options),
    limiter: context.limiter,
    timeoutMs: context.env.requestTimeoutMs,
    logger: context.logger,
  });
}

export const zohoProvider: CrmProviderModule<ZohoConnectBody> = {
  name: "zoho",
  displayName: "Zoho CRM",
  connectBody: zohoConnectBody,
  connect: connectWithRefreshToken,
  oauth: zohoOAuth,
  refreshTokens: refreshZohoTokens,
  /** Credits per rolling 24 h by edition (the integration's tier) and licensed users, per-org concurrency. */
  limitPolicy(integration) {
    const state = zohoState.partial().safeParse(integration.state);
    const edition = (ZOHO_EDITIONS as readonly string[]).includes(integration.tier) ? (integration.tier as ZohoEdition) : (state.data?.edition ?? "standard");
    return zohoRatePolicy(edition, state.data?.users ?? 1, rateLimitOverride(integration.settings));
  },
  createClient(context) {
    const state = readState(context.integration.state);
    return new ZohoLeadClient({
      http: zohoHttpFor(context),
      markerField: state.markerField,
      marker: context.env.marker,
      logger: context.logger.child({ provider: "zoho", integrationId: context.integration.id }),
    });
  },
  defaultFieldMapping: ZOHO_FIELD_MAPPING,
  parseChanges: (events) => parseZohoChanges(events),
  webhook: zohoWebhookVerifier,
  enableChangeFeed: (context, options) => enableChannel(zohoHttpFor(context), context, options),
  renewChangeFeed: (context, options) => renewChannel(zohoHttpFor(context), context, options),
};
