import { randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "pino";

/** Pipedrive's current plans (providers-facts §4.5, the newer rate-limit page). */
export const SANDBOX_PLANS = ["lite", "growth", "premium", "ultimate"] as const;
export type SandboxPlan = (typeof SANDBOX_PLANS)[number];

export type AuthType = "api_token" | "oauth";

export interface SandboxOptions {
  /** default 0 (random free port) */
  port?: number;
  /** default "127.0.0.1" */
  host?: string;
  /** the emulated Marketplace app; default random */
  clientId?: string;
  clientSecret?: string;
  /** the clock every limit, token and timestamp uses (ms epoch); default Date.now. `/__sandbox/clock` adds an offset. */
  now?: () => number;
  /** delays before the 2nd, 3rd and 4th delivery attempt; default [3000, 30000, 150000] (Pipedrive's 3/30/150 s) */
  webhookRetryDelaysMs?: number[];
  /** a delivery slower than this fails; default 10000 (Pipedrive's 10 s) */
  webhookTimeoutMs?: number;
  /** failed first attempts that ban a webhook; default 10 */
  webhookBanThreshold?: number;
  /** how long a ban lasts (events in it are lost); default 30 min */
  webhookBanMs?: number;
  /** OAuth access token lifetime; default 3599 s (Pipedrive's example) */
  accessTokenTtlSeconds?: number;
  /** a refresh token unused this long expires; default 60 days */
  refreshTokenIdleMs?: number;
  /** how long a new or changed person takes to show up in search (Pipedrive's index lags); default 0 */
  searchIndexDelayMs?: number;
  /** consecutive 429s of one api token after which Cloudflare answers 403 HTML; default 20 */
  cloudflareBlockAfter429s?: number;
  logger?: false | Logger;
  /**
   * Keep the state in this JSON file across restarts (emulator-kit's snapshot): loaded on start, saved after changes
   * and on close. The OAuth app comes from it unless given here. Default: in memory only.
   */
  snapshotPath?: string;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  clientId: string;
  clientSecret: string;
  now: () => number;
  webhookRetryDelaysMs: number[];
  webhookTimeoutMs: number;
  webhookBanThreshold: number;
  webhookBanMs: number;
  accessTokenTtlSeconds: number;
  refreshTokenIdleMs: number;
  searchIndexDelayMs: number;
  cloudflareBlockAfter429s: number;
  logger: false | Logger;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export function resolveOptions(options: SandboxOptions = {}): ResolvedOptions {
  return {
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    clientId: options.clientId ?? randomUUID().replaceAll("-", "").slice(0, 16),
    clientSecret: options.clientSecret ?? randomBytes(20).toString("hex"),
    now: options.now ?? Date.now,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? [3_000, 30_000, 150_000],
    webhookTimeoutMs: options.webhookTimeoutMs ?? 10_000,
    webhookBanThreshold: options.webhookBanThreshold ?? 10,
    webhookBanMs: options.webhookBanMs ?? 30 * 60 * 1000,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3599,
    refreshTokenIdleMs: options.refreshTokenIdleMs ?? 60 * DAY_MS,
    searchIndexDelayMs: options.searchIndexDelayMs ?? 0,
    cloudflareBlockAfter429s: options.cloudflareBlockAfter429s ?? 20,
    logger: options.logger ?? false,
  };
}

/** What `POST /api/v1/crm-integration` takes to connect an account (CONTRACT.md "CRM emulators"). */
export interface ConnectBody {
  provider: "pipedrive";
  apiToken: string;
  companyDomain?: string;
}

export interface AccountInfo {
  accountId: number;
  connect: ConnectBody;
  companyDomain: string;
  plan: SandboxPlan;
  seats: number;
  /** the api token's user (an admin) */
  userId: number;
  /** the user whose edits the admin routes make (a sales rep in the app) */
  uiUserId: number;
  apiToken: string;
}
