import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { notFound } from "../http/errors.js";
import type { CustomFieldMetadata } from "../state/lead-fields.js";
import type { Org } from "../state/org.js";
import type { SandboxState } from "../state/sandbox-state.js";

export const accountParams = z.object({ accountId: z.string() });

export function requireOrg(state: SandboxState, accountId: string): Org {
  const org = state.orgs.get(accountId);
  if (!org) throw notFound(`Account ${accountId} not found`);
  return org;
}

/** Exactly the body `POST /api/v1/crm-integration` takes to connect the org. */
export interface SalesforceConnect {
  provider: "salesforce";
  instanceUrl: string;
  accessToken: string;
  refreshToken: string;
  orgId: string;
}

export interface AccountInfo {
  accountId: string;
  connect: SalesforceConnect;
}

/** The account's connect body, with a fresh session when the last one expired or was revoked. */
export function accountInfo(state: SandboxState, org: Org): AccountInfo {
  let tokens = state.currentTokens(org);
  if (!tokens || tokens.refreshToken === undefined) {
    const grant = state.issueTokens(org, org.apiUserId, true);
    tokens = { accessToken: grant.accessToken, refreshToken: grant.refreshToken };
  }
  return {
    accountId: org.orgId,
    connect: { provider: "salesforce", instanceUrl: state.baseUrl, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken ?? "", orgId: org.orgId },
  };
}

export function orgSettingsJson(org: Org): Record<string, unknown> {
  return {
    ...org.settings,
    cdcEntities: [...org.settings.cdcEntities],
    apiUsage: org.usage.used(),
    users: { integration: org.apiUserId, person: org.uiUserId },
    username: org.username,
  };
}

/** What a new account starts with: Lead custom fields as if an admin had created them, and switches. */
export interface AccountInput {
  /** API name (`Lead_Source_System__c`) → Tooling `Metadata` (`{ label, type: "Text", length, externalId }`) */
  customFields?: Record<string, CustomFieldMetadata> | undefined;
  duplicateRule?: boolean | undefined;
  customizeApplication?: boolean | undefined;
  collectionsCallOptions?: boolean | undefined;
}

export function createAccount(state: SandboxState, input: AccountInput = {}): AccountInfo {
  const org = state.createOrg();
  for (const [apiName, metadata] of Object.entries(input.customFields ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9_]*__c$/.test(apiName)) throw new Error(`salesforce-sandbox: custom field names end in __c, got ${apiName}`);
    org.addCustomField(apiName, `Lead.${apiName}`, { type: "Text", length: 255, label: apiName.replace(/__c$/, ""), ...metadata });
  }
  if (input.duplicateRule !== undefined) org.settings.duplicateRule = input.duplicateRule;
  if (input.customizeApplication !== undefined) org.settings.customizeApplication = input.customizeApplication;
  if (input.collectionsCallOptions !== undefined) org.settings.collectionsCallOptions = input.collectionsCallOptions;
  return accountInfo(state, org);
}

const customFieldInput = z.object({
  label: z.string().optional(),
  type: z.enum(["Text", "Email", "Phone", "Checkbox"]).optional(),
  length: z.number().int().min(1).max(255).optional(),
  externalId: z.boolean().optional(),
  unique: z.boolean().optional(),
  required: z.boolean().optional(),
});

/** `/__sandbox/accounts`: orgs, their switches and limits, sessions, stats and the change log. No auth, no budget. */
export const adminAccountRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/__sandbox/app", async () => ({
    clientId: state.options.clientId,
    clientSecret: state.options.clientSecret,
    loginUrl: state.baseUrl,
    // where another process finds the Pub/Sub API, and the CA to trust when it is TLS-only
    pubsub: state.pubsub ? { url: state.pubsub.url, caPem: state.pubsub.caPem ?? null } : null,
  }));

  app.get("/__sandbox/accounts", async () => [...state.orgs.values()].map((org) => accountInfo(state, org)));

  app.post(
    "/__sandbox/accounts",
    {
      schema: {
        // a bare POST (no body) creates a plain account
        body: z
          .object({
            customFields: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*__c$/), customFieldInput).optional(),
            duplicateRule: z.boolean().optional(),
            customizeApplication: z.boolean().optional(),
            collectionsCallOptions: z.boolean().optional(),
          })
          .nullish()
          .transform((body) => body ?? {}),
      },
    },
    async (request, reply) => reply.code(201).send(createAccount(state, request.body)),
  );

  app.get("/__sandbox/accounts/:accountId", { schema: { params: accountParams } }, async (request) => {
    const org = requireOrg(state, request.params.accountId);
    return { ...accountInfo(state, org), settings: orgSettingsJson(org) };
  });

  app.patch(
    "/__sandbox/accounts/:accountId",
    {
      schema: {
        params: accountParams,
        body: z.object({
          dailyApiRequests: z.number().int().min(0).optional(),
          apiUsage: z.number().int().min(0).optional(),
          concurrentLongRunningLimit: z.number().int().min(0).optional(),
          duplicateRule: z.boolean().optional(),
          customizeApplication: z.boolean().optional(),
          cdcEntities: z.array(z.string()).optional(),
          collectionsCallOptions: z.boolean().optional(),
          dailyDeliveredEvents: z.number().int().min(0).optional(),
        }),
      },
    },
    async (request) => {
      const org = requireOrg(state, request.params.accountId);
      const b = request.body;
      if (b.dailyApiRequests !== undefined) org.settings.dailyApiRequests = b.dailyApiRequests;
      if (b.apiUsage !== undefined) org.usage.set(b.apiUsage);
      if (b.concurrentLongRunningLimit !== undefined) org.settings.concurrentLongRunningLimit = b.concurrentLongRunningLimit;
      if (b.duplicateRule !== undefined) org.settings.duplicateRule = b.duplicateRule;
      if (b.customizeApplication !== undefined) org.settings.customizeApplication = b.customizeApplication;
      if (b.cdcEntities !== undefined) org.settings.cdcEntities = new Set(b.cdcEntities);
      if (b.collectionsCallOptions !== undefined) org.settings.collectionsCallOptions = b.collectionsCallOptions;
      if (b.dailyDeliveredEvents !== undefined) org.settings.dailyDeliveredEvents = b.dailyDeliveredEvents;
      return orgSettingsJson(org);
    },
  );

  app.get("/__sandbox/accounts/:accountId/stats", { schema: { params: accountParams } }, async (request) => {
    const org = requireOrg(state, request.params.accountId);
    return {
      calls: { total: org.calls.total, byEndpoint: Object.fromEntries(org.calls.byEndpoint) },
      throttled: org.calls.throttled,
      notifications: { delivered: org.notifications.delivered, failed: org.notifications.failed, pending: state.pendingNotifications(org) },
      apiUsage: org.usage.used(),
    };
  });

  app.post("/__sandbox/accounts/:accountId/expire-access-token", { schema: { params: accountParams } }, async (request, reply) => {
    state.expireAccessTokens(requireOrg(state, request.params.accountId));
    return reply.code(204).send();
  });

  app.post("/__sandbox/accounts/:accountId/revoke-refresh-token", { schema: { params: accountParams } }, async (request, reply) => {
    state.revokeRefreshTokens(requireOrg(state, request.params.accountId));
    return reply.code(204).send();
  });

  /** The change log (retained LeadChangeEvents), decoded: field names, not bitmaps; replay ids as decimal strings. */
  app.get("/__sandbox/accounts/:accountId/events", { schema: { params: accountParams } }, async (request) => {
    const org = requireOrg(state, request.params.accountId);
    return {
      events: org.changeLog.retained().map((e) => ({ ...e, replayId: e.replayId.toString() })),
      dropped: org.changeLog.dropped,
      latestReplayId: org.changeLog.latestReplayId().toString(),
    };
  });

  /** Test hook: ages the retained events by `hours`, so replay ids fall out of the retention window. */
  app.post(
    "/__sandbox/accounts/:accountId/events/age",
    { schema: { params: accountParams, body: z.object({ hours: z.number().positive() }) } },
    async (request) => {
      const org = requireOrg(state, request.params.accountId);
      org.changeLog.ageBy(request.body.hours * 3_600_000);
      return { retained: org.changeLog.retained().length };
    },
  );
};
