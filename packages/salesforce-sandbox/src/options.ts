import { randomBytes } from "node:crypto";
import type { Logger } from "pino";

export interface SalesforceSandboxOptions {
  /** HTTP port; default 0 (random free port) */
  port?: number;
  /** default "127.0.0.1" */
  host?: string;
  /** Pub/Sub API gRPC port; default 0 (random). `false` starts no gRPC server. */
  grpcPort?: number | false;
  /** the gRPC server insists on TLS with a generated CA (see `tls.caPem`); default false (plaintext h2c) */
  grpcTls?: boolean;
  /** the connected app's consumer key / secret; defaults generated */
  clientId?: string;
  clientSecret?: string;
  /** access-token lifetime (Salesforce's session timeout), default 120 min */
  sessionTimeoutMinutes?: number;
  /** rotate refresh tokens on every refresh (the old one then fails with invalid_grant); default false */
  refreshTokenRotation?: boolean;
  /** API requests per rolling 24 h per org; default 15,000 (Developer Edition) */
  dailyApiRequests?: number;
  /** concurrent long-running requests per org; default 5 (Developer Edition) */
  concurrentLongRunningLimit?: number;
  /** a request counts as long-running after this long; default 20,000 ms (Salesforce's 20 s) */
  longRunningMs?: number;
  /** change events delivered per rolling 24 h per org (CDC delivery allocation); default 50,000 (Performance/Unlimited) */
  dailyDeliveredEvents?: number;
  /** event-bus retention, default 72 h */
  retentionHours?: number;
  /** an empty FetchResponse (keepalive with latest_replay_id) after this much silence; default 270,000 ms, as Salesforce */
  keepaliveMs?: number;
  logger?: false | Logger;
  /**
   * Keep the state in this JSON file across restarts (emulator-kit's snapshot): loaded on start, saved after changes
   * and on close. The consumer key and secret come from it unless given here. Default: in memory only.
   */
  snapshotPath?: string;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  grpcPort: number | false;
  grpcTls: boolean;
  clientId: string;
  clientSecret: string;
  sessionTimeoutMs: number;
  refreshTokenRotation: boolean;
  dailyApiRequests: number;
  concurrentLongRunningLimit: number;
  longRunningMs: number;
  dailyDeliveredEvents: number;
  retentionMs: number;
  keepaliveMs: number;
  logger: false | Logger;
}

export function resolveOptions(options: SalesforceSandboxOptions = {}): ResolvedOptions {
  return {
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    grpcPort: options.grpcPort ?? 0,
    grpcTls: options.grpcTls ?? false,
    clientId: options.clientId ?? `3MVG9${randomBytes(30).toString("base64url")}`,
    clientSecret: options.clientSecret ?? randomBytes(32).toString("hex").toUpperCase(),
    sessionTimeoutMs: (options.sessionTimeoutMinutes ?? 120) * 60_000,
    refreshTokenRotation: options.refreshTokenRotation ?? false,
    dailyApiRequests: options.dailyApiRequests ?? 15_000,
    concurrentLongRunningLimit: options.concurrentLongRunningLimit ?? 5,
    longRunningMs: options.longRunningMs ?? 20_000,
    dailyDeliveredEvents: options.dailyDeliveredEvents ?? 50_000,
    retentionMs: (options.retentionHours ?? 72) * 3_600_000,
    keepaliveMs: options.keepaliveMs ?? 270_000,
    logger: options.logger ?? false,
  };
}
