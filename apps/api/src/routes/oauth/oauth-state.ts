import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { RedisClient } from "@leadsync/queue";
import { z } from "zod";
import { BadRequestError } from "../../errors.js";

/**
 * The OAuth `state` of the connect flow: who started it (org), for which provider, a nonce and an expiry, signed with
 * HMAC-SHA256 under a key derived from JWT_SECRET. It is single-use: the nonce is stored in Redis (SET NX, with the
 * flow's TTL) when the flow starts and taken (GETDEL, atomic) by the callback, so a replayed state finds nothing. The
 * PKCE code verifier lives under the same key, server-side: the browser never sees it.
 */

/** How long a started connect flow may take (the user logs in to the CRM, picks an account, approves). */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

const statePayload = z.strictObject({
  v: z.literal(1),
  org: z.string().min(1),
  provider: z.string().min(1),
  nonce: z.string().regex(/^[\w-]{43}$/),
  /** ms epoch */
  exp: z.number().int(),
});

const storedFlow = z.object({ orgId: z.string(), provider: z.string(), codeVerifier: z.string() });

export interface StartedFlow {
  state: string;
  /** base64url(SHA-256(verifier)), for the authorize URL */
  codeChallenge: string;
  expiresAt: number;
}

export interface VerifiedFlow {
  orgId: string;
  provider: string;
  codeVerifier: string;
}

/** A refused state: always a 400 with one of these codes, so the caller and the log say which check failed. */
export type StateRefusal = "state_missing" | "state_invalid" | "state_expired" | "state_provider_mismatch" | "state_used";

export class OAuthStateError extends BadRequestError {
  constructor(
    readonly reason: StateRefusal,
    message: string,
  ) {
    super(reason, message);
  }
}

/** The signing key: derived, so the JWT secret itself never signs anything but JWTs (a state is no JWT, and back). */
export function stateKey(jwtSecret: string): Buffer {
  return createHmac("sha256", jwtSecret).update("leadsync oauth state v1").digest();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const sign = (key: Buffer, body: string) => createHmac("sha256", key).update(body).digest("base64url");

export class OAuthStates {
  private readonly key: Buffer;

  constructor(
    private readonly redis: RedisClient,
    jwtSecret: string,
    private readonly keyPrefix: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = stateKey(jwtSecret);
  }

  /** A new flow for the org: the nonce and the PKCE verifier are stored for OAUTH_STATE_TTL_MS, the signed state returned. */
  async start(orgId: string, provider: string): Promise<StartedFlow> {
    const nonce = randomBytes(32).toString("base64url");
    // RFC 7636: 43–128 characters of [A-Za-z0-9-._~]; 32 random bytes in base64url are 43.
    const codeVerifier = randomBytes(32).toString("base64url");
    const expiresAt = this.now() + OAUTH_STATE_TTL_MS;
    const stored = await this.redis.set(this.redisKey(nonce), JSON.stringify({ orgId, provider, codeVerifier }), "PX", OAUTH_STATE_TTL_MS, "NX");
    if (stored !== "OK") throw new Error("OAuth state nonce collision"); // 256 random bits: never, unless the RNG is broken
    const body = Buffer.from(JSON.stringify({ v: 1, org: orgId, provider, nonce, exp: expiresAt })).toString("base64url");
    return { state: `${body}.${sign(this.key, body)}`, codeChallenge: createHash("sha256").update(codeVerifier).digest("base64url"), expiresAt };
  }

  /**
   * Checks the signature, the expiry and the provider, then takes the nonce (only a state that passed every check is
   * consumed, so a forged or misrouted request cannot burn someone's flow). Throws OAuthStateError.
   */
  async consume(state: string | undefined, provider: string): Promise<VerifiedFlow> {
    if (!state) throw new OAuthStateError("state_missing", "The OAuth callback has no state parameter; start the connection again");
    const payload = this.verify(state);
    if (payload.exp <= this.now()) throw new OAuthStateError("state_expired", "The OAuth state expired (a connection must be finished within 10 minutes); start the connection again");
    if (payload.provider !== provider) {
      throw new OAuthStateError("state_provider_mismatch", `The OAuth state was issued for ${payload.provider}, not ${provider}`);
    }
    const raw = await this.redis.getdel(this.redisKey(payload.nonce));
    const flow = raw === null ? undefined : storedFlow.safeParse(parseJson(raw)).data;
    if (!flow) throw new OAuthStateError("state_used", "The OAuth state was already used; start the connection again");
    if (flow.orgId !== payload.org || flow.provider !== payload.provider) throw new OAuthStateError("state_invalid", "The OAuth state is invalid");
    return flow;
  }

  private verify(state: string): z.infer<typeof statePayload> {
    const invalid = () => new OAuthStateError("state_invalid", "The OAuth state is invalid (not issued by this server)");
    const [body, signature, ...rest] = state.split(".");
    if (body === undefined || signature === undefined || rest.length > 0 || state.length > 2048) throw invalid();
    const expected = Buffer.from(sign(this.key, body));
    const actual = Buffer.from(signature);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw invalid();
    const parsed = statePayload.safeParse(parseJson(Buffer.from(body, "base64url").toString("utf8")));
    if (!parsed.success) throw invalid();
    return parsed.data;
  }

  private redisKey(nonce: string): string {
    return `${this.keyPrefix}:oauth-state:${nonce}`;
  }
}
