import { randomBytes } from "node:crypto";

/** Scopes of Pipedrive's OAuth apps used by the sandbox (providers-facts §4.1). */
export const DEFAULT_SCOPES = ["base", "contacts:full", "leads:full", "search:read", "admin"];

export interface Grant {
  companyId: number;
  userId: number;
  scopes: string[];
}

interface AccessEntry extends Grant {
  expiresAt: number;
}

interface RefreshEntry extends Grant {
  lastUsedAt: number;
}

interface CodeEntry extends Grant {
  redirectUri: string;
  expiresAt: number;
}

export type AccessLookup = { ok: true; grant: Grant } | { ok: false; reason: "invalid" | "expired" };

/**
 * OAuth grants: one-time authorization codes (5 min), access tokens (`expires_in`), and refresh tokens that expire
 * after `refreshIdleMs` unused (Pipedrive: 60 days; each use resets it). Pipedrive keeps the refresh token on refresh.
 */
export class OAuthTokens {
  private readonly codes = new Map<string, CodeEntry>();
  private readonly access = new Map<string, AccessEntry>();
  private readonly refresh = new Map<string, RefreshEntry>();

  constructor(private readonly options: { accessTtlMs: number; refreshIdleMs: number }) {}

  issueCode(grant: Grant, redirectUri: string, now: number): string {
    const code = `${grant.companyId}.${randomBytes(16).toString("hex")}`;
    this.codes.set(code, { ...grant, redirectUri, expiresAt: now + 5 * 60_000 });
    return code;
  }

  exchangeCode(code: string, redirectUri: string | undefined, now: number): { grant: Grant; accessToken: string; refreshToken: string } | undefined {
    const entry = this.codes.get(code);
    this.codes.delete(code); // single use
    if (!entry || entry.expiresAt <= now || (redirectUri !== undefined && redirectUri !== entry.redirectUri)) return undefined;
    const grant: Grant = { companyId: entry.companyId, userId: entry.userId, scopes: entry.scopes };
    const refreshToken = `${grant.companyId}:${grant.userId}:${randomBytes(20).toString("hex")}`;
    this.refresh.set(refreshToken, { ...grant, lastUsedAt: now });
    return { grant, accessToken: this.issueAccess(grant, now), refreshToken };
  }

  useRefreshToken(refreshToken: string, now: number): { grant: Grant; accessToken: string } | undefined {
    const entry = this.refresh.get(refreshToken);
    if (!entry) return undefined;
    if (now - entry.lastUsedAt > this.options.refreshIdleMs) {
      this.refresh.delete(refreshToken);
      return undefined;
    }
    entry.lastUsedAt = now;
    return { grant: entry, accessToken: this.issueAccess(entry, now) };
  }

  lookupAccess(token: string, now: number): AccessLookup {
    const entry = this.access.get(token);
    if (!entry) return { ok: false, reason: "invalid" };
    if (entry.expiresAt <= now) return { ok: false, reason: "expired" };
    return { ok: true, grant: entry };
  }

  revoke(token: string): boolean {
    return this.access.delete(token) || this.refresh.delete(token);
  }

  /** admin: forget every refresh token of the company (the user uninstalled the app) */
  revokeRefreshTokens(companyId: number): void {
    for (const [token, entry] of this.refresh) if (entry.companyId === companyId) this.refresh.delete(token);
  }

  /** admin: every access token of the company expires now */
  expireAccessTokens(companyId: number, now: number): void {
    for (const entry of this.access.values()) if (entry.companyId === companyId) entry.expiresAt = now - 1;
  }

  /** Access and refresh tokens as the emulator's snapshot keeps them (codes live minutes: not kept). */
  snapshot(): { access: [string, AccessEntry][]; refresh: [string, RefreshEntry][] } {
    return { access: [...this.access.entries()], refresh: [...this.refresh.entries()] };
  }

  restoreSnapshot(snapshot: { access: readonly [string, AccessEntry][]; refresh: readonly [string, RefreshEntry][] }): void {
    for (const [token, entry] of snapshot.access) this.access.set(token, entry);
    for (const [token, entry] of snapshot.refresh) this.refresh.set(token, entry);
  }

  expiresInSeconds(): number {
    return Math.round(this.options.accessTtlMs / 1000);
  }

  private issueAccess(grant: Grant, now: number): string {
    const token = `v1u:${randomBytes(32).toString("base64url")}`;
    this.access.set(token, { companyId: grant.companyId, userId: grant.userId, scopes: grant.scopes, expiresAt: now + this.options.accessTtlMs });
    return token;
  }
}
