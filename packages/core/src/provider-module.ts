import type { FieldMapping } from "./lead-fields.js";
import type { AccountCallLimiter, CrmProviderClient } from "./provider.js";
import type { RatePolicy } from "./rate-policy.js";
import type { RecordChange } from "./record-change.js";

/**
 * What a provider package (`packages/<crm>`) exports for the apps: one object of this shape, listed in the one
 * provider registry. The receiver, the API and the workers call only this; nothing outside a provider package
 * names a CRM. Types only: the I/O lives in the provider packages.
 */

/** Tokens of an integration as stored (encrypted at rest by the caller). */
export interface ProviderTokens {
  accessToken: string;
  refreshToken?: string;
  /** ms epoch; absent when the CRM does not say (Salesforce): refresh on INVALID_SESSION_ID and on a schedule. */
  expiresAt?: number;
}

/** A CRM account whose credentials were checked and whose marker field exists: what the API stores. */
export interface ConnectedAccount {
  /** HubSpot portal id, Salesforce org id, Zoho org id, Pipedrive company id. */
  externalAccountId: string;
  authType: "private_app" | "oauth";
  tokens: ProviderTokens;
  /**
   * Provider state kept with the integration (`settings.provider`): instance URL / api domain, the marker field's
   * real name or key, the integration user's id, a data centre… Never secrets (those go in `tokens`).
   */
  state: Record<string, unknown>;
  /** The account's plan or edition, where it sets the API budget (HubSpot tier, Salesforce edition…). */
  tier?: string;
  /** Human-readable notes for the caller (e.g. "ask an admin to add the field …"), returned by the API. */
  warnings?: string[];
}

/** What the provider gets to reach its CRM: base URLs from the environment (the emulator's in development). */
export interface ProviderEnvironment {
  /** The provider's API/login base URL override (env `<PROVIDER>_API_BASE` / `_LOGIN_URL`), else its real one. */
  apiBase?: string;
  /** The OAuth server's base URL where it differs from the API's (Pipedrive). */
  oauthBase?: string;
  /** OAuth app credentials, when configured. */
  clientId?: string;
  clientSecret?: string;
  /** The CRM app's own ids where the provider has them (HubSpot app id and developer key: webhook management). */
  appId?: string;
  developerApiKey?: string;
  /** `LEAD_SOURCE_MARKER` (jazzaam). */
  marker: string;
  requestTimeoutMs: number;
}

/** A stored integration as the provider sees it. */
export interface ProviderIntegration {
  id: string;
  externalAccountId: string;
  authType: "private_app" | "oauth";
  /** The account's plan or edition (the integration's `tier` column). */
  tier: string;
  /** The integration's settings JSON (field mapping, rate-limit override…). */
  settings: unknown;
  /** `settings.provider` as `ConnectedAccount.state` left it (and the feed updated it). */
  state: Readonly<Record<string, unknown>>;
}

export interface ClientContext {
  integration: ProviderIntegration;
  env: ProviderEnvironment;
  /** The current access token; refreshed (once for all processes) when it is near expiry or was refused. */
  getAccessToken(options?: { forceRefresh?: boolean }): Promise<string>;
  limiter: AccountCallLimiter;
  logger: ProviderLogger;
  /**
   * The shared Redis connection and key prefix, for providers that keep cross-process state of their own (HubSpot's
   * limiter predates the shared one). Typed loosely so core stays free of I/O packages.
   */
  shared: { redis: unknown; keyPrefix: string };
}

export interface ProviderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: object): ProviderLogger;
}

/** An incoming webhook request, as the receiver read it (raw bytes kept for signatures). */
export interface WebhookRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  rawBody: Buffer;
}

/**
 * The receiver's side of a pushed feed. Verification is stateless (the receiver has no database): per-integration
 * secrets are derived with `deriveSecret(integrationId)` (an HMAC of a server key), so a callback's credentials are
 * checked in constant time without a lookup.
 */
export interface WebhookVerifier {
  /**
   * Checks the request; on success returns the raw events to queue as they are (one job). A rejection maps to 401 for
   * `auth`, 400 for `malformed`; `ignore` answers 2xx and queues nothing (events the provider sends that we never use).
   */
  verify(request: WebhookRequest, context: WebhookContext): VerifiedWebhook | RejectedWebhook;
}

export interface WebhookContext {
  env: ProviderEnvironment;
  /** The per-integration secret the feed was set up with (Zoho channel token, Pipedrive Basic password). */
  deriveSecret(integrationId: string): string;
  /** API_URL: the public base URL the CRM calls (signed URIs are rebuilt from it, not from the Host header). */
  publicBaseUrl: string;
}

export interface VerifiedWebhook {
  ok: true;
  /** The raw events, each a JSON object, queued as they are. */
  events: Record<string, unknown>[];
  /** The exact JSON bytes of `events` when the body is that array (the job is built around them, not re-serialised). */
  eventsJson?: Buffer;
  /** A job id that a redelivery of the same events maps to (BullMQ then ignores the second add). */
  jobId?: string;
  /** For the log line and metrics: event type → count, accounts named, and provider-specific fields (ids only). */
  types: Record<string, number>;
  accounts: string[];
  logFields?: Record<string, unknown>;
}

export interface RejectedWebhook {
  ok: false;
  status: "auth" | "malformed" | "ignore";
  /** Machine-readable reason for metrics and logs (bad_signature, stale_timestamp, unknown_channel…). */
  reason: string;
  /** The error code the caller gets (default `unauthorized` for auth, `invalid_body` for malformed). */
  code?: string;
  message: string;
}

/** The worker's side of a pulled feed (Salesforce Pub/Sub): one long-running subscription per integration. */
export interface PulledFeed {
  /**
   * Subscribes from `resumeFrom` (the stored checkpoint; null: from now). `deliver` must durably queue the changes
   * before it resolves; only then may the feed consider `checkpoint` acknowledged and store it.
   * `onGap` is called when the checkpoint is too old (retention passed): the caller reconciles.
   */
  start(
    context: ClientContext,
    options: {
      resumeFrom: string | null;
      deliver(changes: RecordChange[], checkpoint: string): Promise<void>;
      onGap(reason: string): void;
      onError(error: unknown): void;
    },
  ): Promise<{ close(): Promise<void> }>;
}

export interface EnabledFeed {
  /** What the guide's enable-webhooks answer lists. */
  subscriptions: { id: string; eventType: string; active: boolean }[];
  webhookUrl: string | null;
  /** Feed state to keep with the integration (channel id and expiry, webhook ids…); merged into `state`. */
  state?: Record<string, unknown>;
  /** When the feed must be renewed (Zoho channels), ms epoch. */
  renewAt?: number;
  /** The CRM had forgotten the feed (an expired channel) and it was created anew: changes in between must be reconciled. */
  recreated?: boolean;
}

export interface OAuthSupport {
  /** The URL to send the browser to. PKCE S256 where the CRM supports it. */
  authorizeUrl(options: { state: string; redirectUri: string; codeChallenge: string; env: ProviderEnvironment }): string;
  /** The callback's code (and query: Zoho's `accounts-server`, `location`) → a connected, checked account. */
  exchangeCode(options: {
    code: string;
    codeVerifier: string;
    redirectUri: string;
    query: Readonly<Record<string, string>>;
    env: ProviderEnvironment;
  }): Promise<ConnectedAccount>;
}

export interface CrmProviderModule<ConnectBody = unknown> {
  /** `hubspot`, `salesforce`, `zoho`, `pipedrive`: the integration's `provider` column and the webhook path segment. */
  readonly name: string;
  /** As people write it (HubSpot, Salesforce, Zoho CRM, Pipedrive): log lines and messages. */
  readonly displayName: string;
  /** The provider's own part of `POST /api/v1/crm-integration` (credentials), as a zod-like parser. */
  readonly connectBody: { safeParse(input: unknown): { success: true; data: ConnectBody } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } } };
  /** The account id the body names, when it names one (HubSpot's portalId): a repeat is refused before calling the CRM. */
  accountIdOf?(body: ConnectBody): string | undefined;
  /** Checks credentials, ensures the marker field, returns what to store. Throws `ProviderConnectError` on refusal. */
  connect(body: ConnectBody, env: ProviderEnvironment): Promise<ConnectedAccount>;
  oauth?: OAuthSupport;
  /** A new access token from a refresh token; throws `CrmReauthRequiredError` when the CRM refuses it for good. */
  refreshTokens?(tokens: ProviderTokens, integration: ProviderIntegration, env: ProviderEnvironment): Promise<ProviderTokens>;
  /**
   * The account's API budget (plan, edition, seats from the integration's tier and state; operator overrides in
   * `settings.rateLimit`), enforced for every process by the shared limiter handed to the client as
   * `ClientContext.limiter`. Absent: the provider keeps its own (HubSpot's per-portal limiter).
   */
  limitPolicy?(integration: ProviderIntegration): RatePolicy;
  /** A client for one integration (the workers and the API's backfill call it). */
  createClient(context: ClientContext): CrmProviderClient;
  /** Lead field → CRM field defaults (`settings.fieldMapping` overrides per field). */
  readonly defaultFieldMapping: FieldMapping;
  /** Turns raw queued feed events into changes (HubSpot's webhook events, Zoho callbacks, Pipedrive payloads). */
  parseChanges(events: readonly Record<string, unknown>[], context: { env: ProviderEnvironment }): RecordChange[];
  /** Pushed feeds: the receiver's verifier for `POST /api/v1/webhooks/<name>`. */
  readonly webhook?: WebhookVerifier;
  /** Pulled feeds (Salesforce CDC). */
  readonly pulledFeed?: PulledFeed;
  /** Turns the real-time feed on (subscriptions, channel, webhooks); idempotent. */
  enableChangeFeed(context: ClientContext, options: { webhookUrl: string | null; webhookSecret: string }): Promise<EnabledFeed>;
  /** Renews an expiring feed (Zoho channels), re-creating it when the CRM forgot it. */
  renewChangeFeed?(context: ClientContext, options: { webhookUrl: string | null; webhookSecret: string }): Promise<EnabledFeed>;
}

/** The CRM refused to connect (bad credentials, missing permission, wrong account): a 4xx for the caller. */
export class ProviderConnectError extends Error {
  override readonly name = "ProviderConnectError";
  constructor(
    /** Machine-readable: `token_rejected`, `marker_field_missing`, `account_mismatch`, `unreachable`… */
    readonly code: string,
    message: string,
    /** 400/422 when the caller must fix something, 409 when it must be done in the CRM, 502 when the CRM failed. */
    readonly status: 400 | 409 | 422 | 502 = 422,
    /** Structured help for the caller (what to configure, which field…), returned as the error's details. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}
