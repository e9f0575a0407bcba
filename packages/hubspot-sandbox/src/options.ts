import { randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "pino";

export type SandboxTier = "free" | "starter" | "professional" | "enterprise" | "unlimited";
export const SANDBOX_TIERS = ["free", "starter", "professional", "enterprise", "unlimited"] as const;
export type AuthType = "private_app" | "oauth";

export interface SandboxOptions {
  /** default 0 (random free port) */
  port?: number;
  /** default "127.0.0.1" */
  host?: string;
  /** the developer app's client secret: signs webhooks */
  clientSecret: string;
  /** default 1000001 */
  appId?: number;
  /** OAuth client id, default random uuid */
  clientId?: string;
  /** default random */
  developerApiKey?: string;
  /** initial target URL of the app's webhook settings (also settable via the webhooks v3 settings API) */
  webhookTargetUrl?: string;
  /** default true: active contact.creation, contact.deletion and contact.propertyChange for the synced fields */
  defaultSubscriptions?: boolean;
  /** how long events gather before a batch (≤100 events) is posted; default 50 */
  webhookFlushMs?: number;
  /** delays between delivery attempts; default [500, 2000, 5000, 10000] (HubSpot: 10 retries over 24 h, scaled down) */
  webhookRetryDelaysMs?: number[];
  /** default 5000 (HubSpot's receiver timeout) */
  webhookTimeoutMs?: number;
  /** OAuth access tokens, default 1800 */
  accessTokenTtlSeconds?: number;
  /** OAuth authorization codes (single-use), default 600 */
  authorizationCodeTtlSeconds?: number;
  logger?: false | Logger;
  /**
   * Keep the state in this JSON file across restarts (emulator-kit's snapshot): loaded on start, saved after changes
   * and on close. The app's ids come from it unless given here. Default: in memory only.
   */
  snapshotPath?: string;
}

export interface PortalInfo {
  portalId: number;
  accessToken: string;
  tier: SandboxTier;
  authType: AuthType;
  refreshToken?: string;
}

/** The properties the default subscriptions watch: the fields LeadSync maps, plus its loop-prevention marker. */
export const DEFAULT_SUBSCRIBED_PROPERTIES = ["email", "firstname", "lastname", "phone", "company", "jobtitle", "lead_source_system"];

export interface ResolvedOptions {
  port: number;
  host: string;
  clientSecret: string;
  appId: number;
  clientId: string;
  developerApiKey: string;
  webhookTargetUrl: string | undefined;
  defaultSubscriptions: boolean;
  webhookFlushMs: number;
  webhookRetryDelaysMs: number[];
  webhookTimeoutMs: number;
  accessTokenTtlSeconds: number;
  authorizationCodeTtlSeconds: number;
  logger: false | Logger;
}

export function resolveOptions(options: SandboxOptions): ResolvedOptions {
  if (!options.clientSecret) throw new Error("hubspot-sandbox: clientSecret is required (it signs webhooks)");
  return {
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    clientSecret: options.clientSecret,
    appId: options.appId ?? 1000001,
    clientId: options.clientId ?? randomUUID(),
    developerApiKey: options.developerApiKey ?? randomBytes(18).toString("hex"),
    webhookTargetUrl: options.webhookTargetUrl,
    defaultSubscriptions: options.defaultSubscriptions ?? true,
    webhookFlushMs: options.webhookFlushMs ?? 50,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? [500, 2000, 5000, 10000],
    webhookTimeoutMs: options.webhookTimeoutMs ?? 5000,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
    authorizationCodeTtlSeconds: options.authorizationCodeTtlSeconds ?? 600,
    logger: options.logger ?? false,
  };
}
