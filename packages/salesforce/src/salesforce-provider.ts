import { CHANGE_KINDS, type ClientContext, type CrmProviderModule, type FieldMapping, type RecordChange } from "@leadsync/core";
import { enableLeadChangeFeed } from "./change-feed.js";
import { salesforceLimitPolicy } from "./budget.js";
import { connectSalesforce, salesforceConnectBody, to18, type SalesforceConnectBody } from "./connect.js";
import { stateOf } from "./integration-state.js";
import { exchangeSalesforceCode, refreshSalesforceTokens, salesforceAuthorizeUrl } from "./oauth-tokens.js";
import { salesforcePulledFeed } from "./pulled-feed.js";
import { SalesforceClient } from "./salesforce-client.js";
import { SalesforceSession } from "./session.js";

/** Lead field → Salesforce Lead field. */
export const SALESFORCE_FIELD_MAPPING: FieldMapping = Object.freeze({
  email: "Email",
  firstName: "FirstName",
  lastName: "LastName",
  phone: "Phone",
  company: "Company",
  jobTitle: "Title",
});

export function sessionFor(context: ClientContext): SalesforceSession {
  return new SalesforceSession({
    instanceUrl: stateOf(context).instanceUrl,
    getAccessToken: (options) => context.getAccessToken(options),
    limiter: context.limiter,
    logger: context.logger,
    requestTimeoutMs: context.env.requestTimeoutMs,
  });
}

/** The Salesforce provider: Leads over REST (jsforce), Change Data Capture over the Pub/Sub API. */
export const salesforceProvider: CrmProviderModule<SalesforceConnectBody> = {
  name: "salesforce",
  displayName: "Salesforce",
  connectBody: salesforceConnectBody,
  accountIdOf: (body) => (body.orgId === undefined ? undefined : to18(body.orgId)),
  connect: (body, env) => connectSalesforce(body, env),
  oauth: {
    authorizeUrl: (options) => salesforceAuthorizeUrl(options),
    async exchangeCode({ code, codeVerifier, redirectUri, env }) {
      const { identityUrl, ...tokens } = await exchangeSalesforceCode({ code, codeVerifier, redirectUri, env });
      return connectSalesforce(tokens, env, { authType: "oauth", ...(identityUrl === undefined ? {} : { identityUrl }) });
    },
  },
  refreshTokens: (tokens, _integration, env) => refreshSalesforceTokens(tokens, env),
  limitPolicy: (integration) => salesforceLimitPolicy(integration),
  createClient(context) {
    const state = stateOf(context);
    return new SalesforceClient({ session: sessionFor(context), orgId: context.integration.externalAccountId, markerField: state.markerField, logger: context.logger });
  },
  defaultFieldMapping: SALESFORCE_FIELD_MAPPING,
  /**
   * The pulled feed hands `deliver` finished `RecordChange`s; the queue stores those, and this reads them back
   * (anything else is dropped: Salesforce pushes nothing to the receiver).
   */
  parseChanges(events) {
    return events.filter(isSalesforceChange);
  },
  pulledFeed: salesforcePulledFeed,
  enableChangeFeed: (context) => enableLeadChangeFeed(sessionFor(context), context),
};

function isSalesforceChange(event: Readonly<Record<string, unknown>>): event is Record<string, unknown> & RecordChange {
  const change = event as Partial<RecordChange>;
  return (
    change.provider === "salesforce" &&
    typeof change.recordId === "string" &&
    typeof change.accountId === "string" &&
    typeof change.identity === "string" &&
    typeof change.kind === "string" &&
    (CHANGE_KINDS as readonly string[]).includes(change.kind)
  );
}
