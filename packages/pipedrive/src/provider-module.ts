import type { ClientContext, CrmProviderModule, ProviderEnvironment, ProviderIntegration, ProviderTokens } from "@leadsync/core";
import { pipedriveLimitPolicy } from "./budget.js";
import { parsePipedriveChanges } from "./changes.js";
import { connectBodySchema, connectWithApiToken, type PipedriveConnectBody } from "./connect.js";
import { pipedriveOAuth, refreshPipedriveTokens } from "./oauth.js";
import { DEFAULT_PIPEDRIVE_FIELD_MAPPING } from "./person-mapping.js";
import { PipedriveClient } from "./pipedrive-client.js";
import { enablePersonWebhooks, pipedriveWebhookVerifier } from "./webhooks.js";

/**
 * Pipedrive behind the provider seam: persons through API v2 (one record per call, in parallel), webhooks v2 with
 * HTTP Basic auth, token-based rate limits (`pipedriveBudget`), API token or OAuth. OAuth refresh tokens lapse
 * after 60 days unused: schedule `refreshTokens` at `refreshDueAt(tokens)` for every OAuth integration.
 */
export const pipedriveProvider: CrmProviderModule<PipedriveConnectBody> = {
  name: "pipedrive",
  displayName: "Pipedrive",
  connectBody: connectBodySchema,
  connect: (body: PipedriveConnectBody, env: ProviderEnvironment) => connectWithApiToken(body, env),
  oauth: pipedriveOAuth,
  refreshTokens: (tokens: ProviderTokens, _integration: ProviderIntegration, env: ProviderEnvironment) => refreshPipedriveTokens(tokens, env),
  limitPolicy: (integration: ProviderIntegration) => pipedriveLimitPolicy(integration),
  createClient: (context: ClientContext) => new PipedriveClient(context),
  defaultFieldMapping: DEFAULT_PIPEDRIVE_FIELD_MAPPING,
  parseChanges: (events, context) => parsePipedriveChanges(events, context),
  webhook: pipedriveWebhookVerifier,
  enableChangeFeed: (context, options) => enablePersonWebhooks(context, options),
  // idempotent: re-creates the webhooks Pipedrive deleted (3 days of failed deliveries), keeps the others
  renewChangeFeed: (context, options) => enablePersonWebhooks(context, options),
};
