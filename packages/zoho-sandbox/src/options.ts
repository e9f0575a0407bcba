import { randomBytes } from "node:crypto";
import type { Logger } from "pino";

export interface SandboxOptions {
  /** Accounts server port; default 0 (random). */
  port?: number;
  /** API domain port (a second listener, so a client that calls the accounts server for data fails); default 0. */
  apiPort?: number;
  /** default "127.0.0.1" */
  host?: string;
  /** Advertised accounts server (`accounts-server` of the redirect, the connect body); default the listener's URL. */
  accountsUrl?: string;
  /** Advertised `api_domain` of the tokens; default the API listener's URL. */
  apiDomain?: string;
  /** `location` of the authorize redirect (the data centre); default "us". */
  location?: string;
  /** OAuth client of the emulated app; defaults look like Zoho's (`1000.` + 30 chars). */
  clientId?: string;
  clientSecret?: string;
  /** Access token life; default 3600 (Zoho's). */
  accessTokenTtlSeconds?: number;
  /** Access tokens one refresh token may mint per window; default 10 per 600 s (providers-facts §3.1). */
  tokenMintLimit?: { count: number; windowMs: number };
  /** How long changes gather before one callback per channel and operation (≤100 ids); default 50. */
  notifyFlushMs?: number;
  /** Delays between callback attempts (UNCERTAIN in Zoho's docs; see README); default [1000, 5000, 15000]. */
  notifyRetryDelaysMs?: number[];
  /** A callback not answered within this is a failure; default 10000. */
  notifyTimeoutMs?: number;
  /** How often expired channels are garbage-collected; default 1000. */
  channelGcIntervalMs?: number;
  logger?: false | Logger;
  /**
   * Keep the state in this JSON file across restarts (emulator-kit's snapshot): loaded on start, saved after changes
   * and on close. The OAuth client comes from it unless given here. Default: in memory only.
   */
  snapshotPath?: string;
}

export interface ResolvedOptions {
  port: number;
  apiPort: number;
  host: string;
  accountsUrl: string | undefined;
  apiDomain: string | undefined;
  location: string;
  clientId: string;
  clientSecret: string;
  accessTokenTtlSeconds: number;
  tokenMintLimit: { count: number; windowMs: number };
  notifyFlushMs: number;
  notifyRetryDelaysMs: number[];
  notifyTimeoutMs: number;
  channelGcIntervalMs: number;
  logger: false | Logger;
}

export function resolveOptions(options: SandboxOptions = {}): ResolvedOptions {
  return {
    port: options.port ?? 0,
    apiPort: options.apiPort ?? 0,
    host: options.host ?? "127.0.0.1",
    accountsUrl: options.accountsUrl?.replace(/\/+$/, ""),
    apiDomain: options.apiDomain?.replace(/\/+$/, ""),
    location: options.location ?? "us",
    clientId: options.clientId ?? `1000.${randomBytes(15).toString("hex").toUpperCase()}`,
    clientSecret: options.clientSecret ?? randomBytes(21).toString("hex"),
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    tokenMintLimit: options.tokenMintLimit ?? { count: 10, windowMs: 600_000 },
    notifyFlushMs: options.notifyFlushMs ?? 50,
    notifyRetryDelaysMs: options.notifyRetryDelaysMs ?? [1000, 5000, 15000],
    notifyTimeoutMs: options.notifyTimeoutMs ?? 10_000,
    channelGcIntervalMs: options.channelGcIntervalMs ?? 1000,
    logger: options.logger ?? false,
  };
}
