import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { isCrmReauthRequired } from "@leadsync/core";
import type { RedisClient } from "./redis-script.js";
import { HubSpotApiError, InvalidRefreshTokenError, isApiException, toHubSpotError } from "./errors.js";
import { RedisScript } from "./redis-script.js";
import { createHubSpotClient } from "./sdk-client.js";

/** An OAuth token set as we store it (encrypted at rest by the caller's `save`). */
export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** ms epoch */
  expiresAt: number;
}

export interface RefreshAccessTokenOptions {
  basePath: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  now?: () => number;
}

/** `POST /oauth/v1/token` with `grant_type=refresh_token`, through the SDK. */
export async function refreshAccessToken(options: RefreshAccessTokenOptions): Promise<OAuthTokens> {
  const client = createHubSpotClient({ basePath: options.basePath });
  try {
    const response = await client.oauth.tokensApi.create(
      "refresh_token",
      undefined,
      undefined,
      options.clientId,
      options.clientSecret,
      options.refreshToken,
    );
    return {
      accessToken: response.accessToken,
      // HubSpot keeps the refresh token stable, but store whatever it answers.
      refreshToken: response.refreshToken || options.refreshToken,
      expiresAt: (options.now ?? Date.now)() + response.expiresIn * 1000,
    };
  } catch (err) {
    if (isInvalidGrant(err)) throw new InvalidRefreshTokenError();
    throw toHubSpotError(err, "OAuth token refresh");
  }
}

function isInvalidGrant(err: unknown): boolean {
  if (!isApiException(err) || err.code < 400 || err.code >= 500) return false;
  const body = (typeof err.body === "object" && err.body !== null ? err.body : {}) as { error?: unknown; status?: unknown };
  return body.error === "invalid_grant" || body.status === "BAD_REFRESH_TOKEN";
}

export interface GetAccessTokenOptions {
  /** The CRM refused this access token (401 / INVALID_SESSION_ID): refresh even if it looks fresh. */
  refused?: string;
}

export interface TokenStore {
  /** The stored tokens (e.g. decrypted from the integration row). */
  load: () => Promise<OAuthTokens>;
  /** Exchanges the refresh token; usually `refreshAccessToken`. */
  refresh: (current: OAuthTokens) => Promise<OAuthTokens>;
  /** Persists refreshed tokens where every process's `load` will find them. */
  save: (tokens: OAuthTokens) => Promise<void>;
}

export interface AccessTokenCacheOptions {
  redis: RedisClient;
  keyPrefix?: string;
  /** Refresh this long before expiry (default 5 min; HubSpot tokens live 30 min). */
  refreshAheadMs?: number;
  /** How long a refresher may hold the lock (default 30 s); a crashed holder frees it after this. */
  lockTtlMs?: number;
  /** How often waiters look for the refreshed token (default 50 ms). */
  pollIntervalMs?: number;
  /** Fresh tokens kept in this process's memory at most (default 10,000); the least recently stored go first. */
  maxRemembered?: number;
  now?: () => number;
}

// Deletes the lock only if we still own it (it may have expired and been taken by someone else).
const RELEASE_LOCK = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** How long waiters keep seeing a refresh token HubSpot refused, so they fail too instead of each retrying it. */
const INVALID_MARKER_TTL_MS = 60_000;

/**
 * Fresh OAuth access tokens for many workers: the first caller that finds a token within `refreshAheadMs`
 * of expiry takes a Redis lock (SET NX PX) and refreshes; everyone else waits and reads the saved result
 * through `load`. Tokens themselves never go to Redis (they stay encrypted in the store); this process
 * keeps a fresh token in memory to avoid a store read per call.
 */
export class AccessTokenCache {
  private readonly redis: RedisClient;
  private readonly keyPrefix: string;
  private readonly refreshAheadMs: number;
  private readonly lockTtlMs: number;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly maxRemembered: number;
  private readonly memory = new Map<string, { accessToken: string; expiresAt: number }>();

  constructor(options: AccessTokenCacheOptions) {
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix ?? "leadsync:oauth";
    this.refreshAheadMs = options.refreshAheadMs ?? 5 * 60_000;
    this.lockTtlMs = options.lockTtlMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.now = options.now ?? Date.now;
    this.maxRemembered = options.maxRemembered ?? 10_000;
  }

  async getAccessToken(integrationKey: string, store: TokenStore, options: GetAccessTokenOptions = {}): Promise<string> {
    const usable = (token: { accessToken: string; expiresAt: number }) => this.isFresh(token) && token.accessToken !== options.refused;
    const cached = this.memory.get(integrationKey);
    if (cached && usable(cached)) {
      // Most recently used last: the bound drops the integrations idle longest.
      this.memory.delete(integrationKey);
      this.memory.set(integrationKey, cached);
      return cached.accessToken;
    }

    const deadline = this.now() + this.lockTtlMs * 2;
    for (;;) {
      const current = await store.load();
      if (usable(current)) return this.remember(integrationKey, current);
      await this.throwIfMarkedInvalid(integrationKey);

      const lockValue = randomUUID();
      const locked = await this.redis.set(this.lockKey(integrationKey), lockValue, "PX", this.lockTtlMs, "NX");
      if (locked === "OK") {
        try {
          return await this.refreshHoldingLock(integrationKey, store, usable);
        } finally {
          await RELEASE_LOCK.run(this.redis, [this.lockKey(integrationKey)], [lockValue]);
        }
      }
      // Someone else is refreshing: wait for the lock to go, then look again (or take over if it failed).
      while ((await this.redis.exists(this.lockKey(integrationKey))) === 1) {
        if (this.now() > deadline) {
          throw new HubSpotApiError("timed out waiting for another worker to refresh the HubSpot access token", { retryable: true });
        }
        await sleep(this.pollIntervalMs);
      }
    }
  }

  private async refreshHoldingLock(integrationKey: string, store: TokenStore, usable: (token: OAuthTokens) => boolean): Promise<string> {
    // Another worker may have refreshed between our load and our lock.
    const current = await store.load();
    if (usable(current)) return this.remember(integrationKey, current);
    let refreshed: OAuthTokens;
    try {
      refreshed = await store.refresh(current);
    } catch (err) {
      if (isCrmReauthRequired(err)) {
        await this.redis.set(this.invalidKey(integrationKey), "1", "PX", INVALID_MARKER_TTL_MS);
      }
      throw err;
    }
    await store.save(refreshed);
    return this.remember(integrationKey, refreshed);
  }

  private async throwIfMarkedInvalid(integrationKey: string): Promise<void> {
    if ((await this.redis.exists(this.invalidKey(integrationKey))) === 1) throw new InvalidRefreshTokenError();
  }

  /** Forgets the refused-token marker (call after the integration was re-authorised). */
  /** How many tokens this process keeps in memory (bounded by maxRemembered). */
  get remembered(): number {
    return this.memory.size;
  }

  async clearInvalid(integrationKey: string): Promise<void> {
    await this.redis.del(this.invalidKey(integrationKey));
    this.memory.delete(integrationKey);
  }

  private isFresh(token: { expiresAt: number }): boolean {
    return token.expiresAt - this.now() > this.refreshAheadMs;
  }

  private remember(integrationKey: string, tokens: OAuthTokens): string {
    // Bounded: a process serving many integrations keeps the most recently used ones; the others read the store.
    this.memory.delete(integrationKey);
    if (this.memory.size >= this.maxRemembered) {
      const oldest = this.memory.keys().next().value;
      if (oldest !== undefined) this.memory.delete(oldest);
    }
    this.memory.set(integrationKey, { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt });
    return tokens.accessToken;
  }

  private lockKey(integrationKey: string): string {
    return `${untagged(this.keyPrefix)}:{${integrationKey}}:refresh-lock`;
  }

  private invalidKey(integrationKey: string): string {
    return `${untagged(this.keyPrefix)}:{${integrationKey}}:refresh-invalid`;
  }
}

/** A prefix's own hash tag (`{leadsync}:oauth`) would put every integration's keys in one cluster slot: braces go. */
function untagged(keyPrefix: string): string {
  return keyPrefix.replace(/[{}]/g, "");
}
