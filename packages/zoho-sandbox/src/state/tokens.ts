import { createHash, randomBytes } from "node:crypto";

/** Zoho's token rules (providers-facts §3.1): 1 h access tokens, mints per refresh token limited, 30 live at most. */
export const MAX_LIVE_ACCESS_TOKENS = 30;
const GRANT_CODE_LIFE_MS = 2 * 60 * 1000;

interface RefreshTokenEntry {
  accountId: string;
  revoked: boolean;
  mints: number[];
  /** live access tokens, oldest first */
  accessTokens: string[];
}

interface AccessTokenEntry {
  accountId: string;
  refreshToken: string | undefined;
  expiresAt: number;
}

interface GrantCode {
  accountId: string;
  redirectUri: string | undefined;
  codeChallenge: string | undefined;
  expiresAt: number;
}

export type MintResult = { accessToken: string; accountId: string } | { error: "invalid_code" | "Access Denied" };

export class TokenStore {
  private readonly refreshTokens = new Map<string, RefreshTokenEntry>();
  private readonly accessTokens = new Map<string, AccessTokenEntry>();
  private readonly codes = new Map<string, GrantCode>();

  constructor(
    private readonly accessTtlMs: () => number,
    private readonly mintLimit: { count: number; windowMs: number },
  ) {}

  newRefreshToken(accountId: string): string {
    const token = `1000.${randomBytes(16).toString("hex")}.${randomBytes(16).toString("hex")}`;
    this.refreshTokens.set(token, { accountId, revoked: false, mints: [], accessTokens: [] });
    return token;
  }

  newGrantCode(accountId: string, redirectUri: string | undefined, codeChallenge: string | undefined): string {
    const code = `1000.${randomBytes(16).toString("hex")}.${randomBytes(16).toString("hex")}`;
    this.codes.set(code, { accountId, redirectUri, codeChallenge, expiresAt: Date.now() + GRANT_CODE_LIFE_MS });
    return code;
  }

  /** A grant code is single-use and lives 2 minutes; a PKCE challenge must match its verifier. */
  redeemCode(code: string, redirectUri: string | undefined, codeVerifier: string | undefined): { accountId: string } | undefined {
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (!grant || grant.expiresAt <= Date.now()) return undefined;
    if (grant.redirectUri !== undefined && redirectUri !== undefined && grant.redirectUri !== redirectUri) return undefined;
    if (grant.codeChallenge !== undefined) {
      if (codeVerifier === undefined) return undefined;
      if (createHash("sha256").update(codeVerifier).digest("base64url") !== grant.codeChallenge) return undefined;
    }
    return { accountId: grant.accountId };
  }

  /** Mints an access token from a refresh token within the per-window limit. */
  mint(refreshToken: string, now = Date.now()): MintResult {
    const entry = this.refreshTokens.get(refreshToken);
    if (!entry || entry.revoked) return { error: "invalid_code" };
    entry.mints = entry.mints.filter((at) => at > now - this.mintLimit.windowMs);
    if (entry.mints.length >= this.mintLimit.count) return { error: "Access Denied" };
    entry.mints.push(now);
    const accessToken = `1000.${randomBytes(16).toString("hex")}.${randomBytes(16).toString("hex")}`;
    this.accessTokens.set(accessToken, { accountId: entry.accountId, refreshToken, expiresAt: now + this.accessTtlMs() });
    entry.accessTokens.push(accessToken);
    // the 31st live token deletes the oldest
    while (entry.accessTokens.length > MAX_LIVE_ACCESS_TOKENS) this.accessTokens.delete(entry.accessTokens.shift() as string);
    return { accessToken, accountId: entry.accountId };
  }

  lookup(accessToken: string, now = Date.now()): { accountId: string } | undefined {
    const entry = this.accessTokens.get(accessToken);
    if (!entry || entry.expiresAt <= now) return undefined;
    const refresh = entry.refreshToken === undefined ? undefined : this.refreshTokens.get(entry.refreshToken);
    if (refresh?.revoked) return undefined;
    return { accountId: entry.accountId };
  }

  /** `POST /oauth/v2/token/revoke?token=`: a refresh token (and its access tokens) or one access token. */
  revoke(token: string): void {
    const refresh = this.refreshTokens.get(token);
    if (refresh) {
      refresh.revoked = true;
      for (const access of refresh.accessTokens) this.accessTokens.delete(access);
    }
    this.accessTokens.delete(token);
  }

  /** The refresh and access tokens as the emulator's snapshot keeps them (the mint window starts afresh). */
  snapshot(): { refreshTokens: [string, { accountId: string; revoked: boolean; accessTokens: string[] }][]; accessTokens: [string, { accountId: string; refreshToken?: string; expiresAt: number }][] } {
    return {
      refreshTokens: [...this.refreshTokens.entries()].map(([token, { accountId, revoked, accessTokens }]) => [token, { accountId, revoked, accessTokens }]),
      accessTokens: [...this.accessTokens.entries()].map(([token, { accountId, refreshToken, expiresAt }]) => [token, { accountId, expiresAt, ...(refreshToken !== undefined && { refreshToken }) }]),
    };
  }

  restoreSnapshot(snapshot: { refreshTokens: readonly [string, { accountId: string; revoked: boolean; accessTokens: string[] }][]; accessTokens: readonly [string, { accountId: string; refreshToken?: string | undefined; expiresAt: number }][] }): void {
    for (const [token, entry] of snapshot.refreshTokens) this.refreshTokens.set(token, { ...entry, mints: [] });
    for (const [token, entry] of snapshot.accessTokens) this.accessTokens.set(token, { accountId: entry.accountId, refreshToken: entry.refreshToken, expiresAt: entry.expiresAt });
  }

  expireAccessTokens(accountId: string): void {
    for (const entry of this.accessTokens.values()) if (entry.accountId === accountId) entry.expiresAt = 0;
  }

  revokeRefreshTokens(accountId: string): void {
    for (const [token, entry] of this.refreshTokens) if (entry.accountId === accountId) this.revoke(token);
  }
}
