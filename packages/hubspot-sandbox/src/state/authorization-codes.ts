import { createHash, randomUUID, timingSafeEqual } from "node:crypto";

/**
 * Authorization codes of the OAuth authorization-code grant, as HubSpot issues them on install: single-use, short
 * lived, bound to the app's client id and the exact redirect URI of the authorize request, and (PKCE, optional at
 * HubSpot: hubspot-facts.md §7) to the S256 challenge when one was sent.
 */

export interface AuthorizationCode {
  portalId: number;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** base64url(SHA-256(verifier)); undefined when the authorize request sent no challenge */
  codeChallenge: string | undefined;
  /** ms epoch */
  expiresAt: number;
}

export interface RedeemRequest {
  code: string | undefined;
  clientId: string;
  redirectUri: string | undefined;
  codeVerifier: string | undefined;
}

/** Why a code was refused, with HubSpot's `status` values (BAD_AUTH_CODE, BAD_REDIRECT_URI…). */
export type RedeemRefusal = { status: "BAD_AUTH_CODE" | "BAD_REDIRECT_URI" | "BAD_CODE_VERIFIER"; description: string };

export class AuthorizationCodes {
  private readonly codes = new Map<string, AuthorizationCode>();

  constructor(private readonly ttlMs: number) {}

  issue(grant: Omit<AuthorizationCode, "expiresAt">, now = Date.now()): string {
    this.sweep(now);
    const code = randomUUID();
    this.codes.set(code, { ...grant, expiresAt: now + this.ttlMs });
    return code;
  }

  /**
   * Redeems a code once: it is gone after the first redemption, whether that succeeded or not (a code presented with
   * the wrong redirect URI or verifier may have been intercepted, so it must not stay usable).
   */
  redeem(request: RedeemRequest, now = Date.now()): AuthorizationCode | RedeemRefusal {
    const grant = request.code === undefined ? undefined : this.codes.get(request.code);
    if (request.code !== undefined) this.codes.delete(request.code);
    if (!grant || grant.expiresAt <= now || grant.clientId !== request.clientId) {
      return { status: "BAD_AUTH_CODE", description: "missing or unknown auth code" };
    }
    if (request.redirectUri !== grant.redirectUri) {
      return { status: "BAD_REDIRECT_URI", description: "redirect_uri does not match the one the code was issued for" };
    }
    if (grant.codeChallenge !== undefined && !verifierMatches(request.codeVerifier, grant.codeChallenge)) {
      return { status: "BAD_CODE_VERIFIER", description: "code_verifier is missing or does not match the code_challenge" };
    }
    return grant;
  }

  /** Drops expired codes so an authorize loop cannot grow the map without bound. */
  private sweep(now: number): void {
    for (const [code, grant] of this.codes) if (grant.expiresAt <= now) this.codes.delete(code);
  }
}

function verifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined) return false;
  const actual = Buffer.from(createHash("sha256").update(verifier).digest("base64url"));
  const expected = Buffer.from(challenge);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
