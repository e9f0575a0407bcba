import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * HubSpot webhook request signatures (hubspot-facts.md §1.3). v3 is checked first whenever its header is
 * present; v1/v2 only for requests that carry no v3 header (legacy apps sign CRM-object webhooks v1 only).
 */

export type HubSpotSignatureVersion = "v1" | "v2" | "v3";

export type SignatureRejection =
  | "missing_signature"
  | "bad_signature"
  | "stale_timestamp"
  | "future_timestamp"
  | "bad_timestamp"
  | "unsupported_version";

export type SignatureCheck = { ok: true; version: HubSpotSignatureVersion } | { ok: false; reason: SignatureRejection };

export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyHubSpotSignatureInput {
  method: string;
  /** The full public URI HubSpot called: scheme, host, path and query (see `buildRequestUri`). */
  requestUri: string;
  /** The body exactly as received: re-serialised JSON would not hash the same. */
  rawBody: Buffer;
  headers: RequestHeaders;
  /** The app's client secret. */
  clientSecret: string;
  /** Current time in ms epoch (tests). */
  now?: number;
  /** v3 timestamps older than this are replays (HubSpot: 5 minutes). */
  maxAgeMs?: number;
  /** v3 timestamps further ahead than this are rejected too (clock skew allowance; undocumented by HubSpot). */
  maxFutureSkewMs?: number;
}

export const SIGNATURE_MAX_AGE_MS = 300_000;
export const SIGNATURE_MAX_FUTURE_SKEW_MS = 60_000;

const HEADER_V3 = "x-hubspot-signature-v3";
const HEADER_TIMESTAMP = "x-hubspot-request-timestamp";
const HEADER_LEGACY = "x-hubspot-signature";
const HEADER_LEGACY_VERSION = "x-hubspot-signature-version";

/** The only percent-encodings HubSpot decodes before signing v3 (facts §1.3); all others (e.g. %20) stay encoded. */
const V3_DECODED = /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

export function verifyHubSpotSignature(input: VerifyHubSpotSignatureInput): SignatureCheck {
  if (input.clientSecret === "") throw new Error("verifyHubSpotSignature: clientSecret is empty");
  const v3 = header(input.headers, HEADER_V3);
  if (v3 !== undefined) return verifyV3(input, v3);

  const legacy = header(input.headers, HEADER_LEGACY);
  if (legacy === undefined) return { ok: false, reason: "missing_signature" };
  const version = header(input.headers, HEADER_LEGACY_VERSION)?.trim().toLowerCase();
  if (version !== "v1" && version !== "v2") return { ok: false, reason: "unsupported_version" };

  const expected = legacyDigest(version, input.method, input.requestUri, input.rawBody, input.clientSecret);
  // Hex is case-insensitive; HubSpot sends lowercase.
  return safeEqual(legacy.toLowerCase(), expected) ? { ok: true, version } : { ok: false, reason: "bad_signature" };
}

function verifyV3(input: VerifyHubSpotSignatureInput, signature: string): SignatureCheck {
  const timestampHeader = header(input.headers, HEADER_TIMESTAMP);
  if (timestampHeader === undefined || !/^\d{1,16}$/.test(timestampHeader)) return { ok: false, reason: "bad_timestamp" };
  const timestamp = Number(timestampHeader);
  const now = input.now ?? Date.now();
  if (now - timestamp > (input.maxAgeMs ?? SIGNATURE_MAX_AGE_MS)) return { ok: false, reason: "stale_timestamp" };
  if (timestamp - now > (input.maxFutureSkewMs ?? SIGNATURE_MAX_FUTURE_SKEW_MS)) return { ok: false, reason: "future_timestamp" };

  // The timestamp is hashed exactly as the header carried it, not as a re-formatted number.
  const expected = v3Digest(input.method, input.requestUri, input.rawBody, timestampHeader, input.clientSecret);
  // Compared verbatim: a header whose "+" became " " somewhere on the way is a bad signature, not a near match.
  return safeEqual(signature, expected) ? { ok: true, version: "v3" } : { ok: false, reason: "bad_signature" };
}

/** v3: base64 HMAC-SHA256(secret, method + decoded URI + body + timestamp). */
function v3Digest(method: string, requestUri: string, body: Buffer, timestamp: string, secret: string): string {
  return createHmac("sha256", secret)
    .update(method.toUpperCase() + decodeV3Uri(requestUri), "utf8")
    .update(body)
    .update(timestamp, "utf8")
    .digest("base64");
}

/** v1: hex SHA-256(secret + body); v2: hex SHA-256(secret + method + URI + body). A plain hash, not an HMAC. */
function legacyDigest(version: "v1" | "v2", method: string, requestUri: string, body: Buffer, secret: string): string {
  const hash = createHash("sha256").update(secret, "utf8");
  if (version === "v2") hash.update(method.toUpperCase() + requestUri, "utf8");
  return hash.update(body).digest("hex");
}

/** Decodes only the percent-encodings HubSpot lists for v3 (facts §1.3). */
export function decodeV3Uri(uri: string): string {
  return uri.replace(V3_DECODED, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)));
}

/**
 * The public URI HubSpot signed, rebuilt from the configured public base URL (`API_URL`) and the request's raw
 * path + query. Behind a proxy the Host and scheme the server sees are not the ones HubSpot called.
 */
export function buildRequestUri(apiUrl: string, rawUrl: string): string {
  const base = apiUrl.replace(/\/+$/, "");
  return base + (rawUrl.startsWith("/") ? rawUrl : `/${rawUrl}`);
}

/** One header value, looked up case-insensitively; repeated headers are ambiguous and count as absent. */
function header(headers: RequestHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === "string" ? value : undefined;
  }
  return undefined;
}

/** Constant-time comparison of the raw bytes; the length check comes first because timingSafeEqual requires it. */
function safeEqual(received: string, expected: string): boolean {
  const a = Buffer.from(received, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface SignWebhookInput {
  method: string;
  requestUri: string;
  body: Buffer | string;
  clientSecret: string;
  /** ms epoch; v3 only. */
  timestamp?: number;
}

/**
 * The headers HubSpot would send for this request (v3 plus its timestamp, or a v1/v2 legacy signature).
 * For the sandbox and tests: the same algorithm as `verifyHubSpotSignature`, applied the sender's way.
 */
export function signHubSpotWebhook(version: HubSpotSignatureVersion, input: SignWebhookInput): Record<string, string> {
  const body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : input.body;
  if (version === "v3") {
    const timestamp = String(input.timestamp ?? Date.now());
    return { [HEADER_V3]: v3Digest(input.method, input.requestUri, body, timestamp, input.clientSecret), [HEADER_TIMESTAMP]: timestamp };
  }
  const signature = legacyDigest(version, input.method, input.requestUri, body, input.clientSecret);
  return { [HEADER_LEGACY]: signature, [HEADER_LEGACY_VERSION]: version };
}
