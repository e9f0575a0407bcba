import { CrmRateLimitedError, CrmReauthRequiredError } from "@leadsync/core";

/**
 * Salesforce failures as the classes the workers act on (crm-errors.ts): a rate limit delays the job, a refused
 * refresh token marks the integration `needs_reauth`, everything else says whether a retry can help. Messages are
 * built from Salesforce's error array, never from the request, so they carry no token.
 */

export class SalesforceApiError extends Error {
  override readonly name: string = "SalesforceApiError";
  /** Salesforce's `errorCode` (`INVALID_FIELD`, `SERVER_UNAVAILABLE`…), `ERROR_HTTP_<status>` when the body had none. */
  readonly errorCode: string | undefined;
  readonly retryable: boolean;
  /** The fields Salesforce blamed. */
  readonly fields: string[];

  constructor(message: string, init: { errorCode?: string | undefined; retryable: boolean; fields?: string[]; cause?: unknown }) {
    super(redactSecrets(message), init.cause === undefined ? undefined : { cause: init.cause });
    this.errorCode = init.errorCode;
    this.retryable = init.retryable;
    this.fields = init.fields ?? [];
  }
}

/** `REQUEST_LIMIT_EXCEEDED`, or our shared limiter said no. */
export class SalesforceRateLimitedError extends CrmRateLimitedError {
  override readonly name: string = "SalesforceRateLimitedError";
}

/** The refresh token was refused, or a freshly refreshed token was still refused: the customer must connect again. */
export class SalesforceReauthRequiredError extends CrmReauthRequiredError {
  override readonly name: string = "SalesforceReauthRequiredError";
}

/** The rolling 24 h allowance ("TotalRequests Limit exceeded.") and the cap on concurrent long requests (≥ 20 s). */
export const DAILY_POLICY = "TotalRequests";
export const CONCURRENCY_POLICY = "ConcurrentPerOrgLongTxn";

/**
 * How long to stay away after a refusal. The 24 h window rolls, so capacity comes back gradually: an hour lets
 * the org's other integrations breathe and is short enough that we resume once calls age out. The concurrency cap
 * frees as soon as a long request ends.
 */
export const DAILY_LIMIT_PAUSE_MS = 60 * 60_000;
export const CONCURRENCY_LIMIT_PAUSE_MS = 10_000;

/** Error codes whose retry can succeed (Salesforce's transient states), beside 5xx bodies and network failures. */
const TRANSIENT_CODES = new Set([
  "SERVER_UNAVAILABLE",
  "UNABLE_TO_LOCK_ROW",
  "REQUEST_RUNNING_TOO_LONG",
  "QUERY_TIMEOUT",
  "UNKNOWN_EXCEPTION",
  "API_TEMPORARILY_UNAVAILABLE",
]);

export function isTransientCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  return TRANSIENT_CODES.has(code) || /^ERROR_HTTP_(5\d\d|408|429)$/.test(code);
}

/** What jsforce throws for an HTTP error: `HttpApiError` with `errorCode` and the parsed `data` (one error, or the array). */
interface JsforceErrorLike {
  errorCode?: unknown;
  data?: unknown;
  message: string;
}

export function errorCodeOf(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as JsforceErrorLike).errorCode;
  return typeof code === "string" && code !== "" ? code : undefined;
}

function fieldsOf(err: unknown): string[] {
  const data = (err as JsforceErrorLike).data;
  const fields = data !== null && typeof data === "object" && !Array.isArray(data) ? (data as { fields?: unknown }).fields : undefined;
  return Array.isArray(fields) ? fields.filter((f): f is string => typeof f === "string") : [];
}

/** `REQUEST_LIMIT_EXCEEDED` → which limit refused, how long to wait. */
export function rateLimitOf(message: string): { policy: string; retryAfterMs: number; daily: boolean } {
  // Salesforce says "ConcurrentPerOrgLongTxn Limit exceeded." (also seen: "ConcurrentRequests (Concurrent API Requests) …").
  if (/Concurrent/i.test(message)) return { policy: CONCURRENCY_POLICY, retryAfterMs: CONCURRENCY_LIMIT_PAUSE_MS, daily: false };
  return { policy: DAILY_POLICY, retryAfterMs: DAILY_LIMIT_PAUSE_MS, daily: true };
}

/** Any failure of a jsforce call → `SalesforceApiError` or `SalesforceRateLimitedError`. Already-mapped errors pass through. */
export function toSalesforceError(err: unknown, operation: string): Error {
  if (err instanceof SalesforceApiError || err instanceof CrmRateLimitedError || err instanceof CrmReauthRequiredError) return err;
  const code = errorCodeOf(err);
  const text = err instanceof Error ? err.message : String(err);
  if (code === "REQUEST_LIMIT_EXCEEDED") {
    const limit = rateLimitOf(text);
    return new SalesforceRateLimitedError(`Salesforce ${operation} refused: ${limit.policy} limit exceeded`, limit);
  }
  if (code === undefined) {
    // No Salesforce answer at all: connection refused or reset, DNS, timeout.
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return new SalesforceApiError(`Salesforce ${operation} failed without a response: ${text}${cause}`, { retryable: true, cause: err });
  }
  return new SalesforceApiError(`Salesforce ${operation} failed (${code}): ${firstLine(text)}`, {
    errorCode: code,
    retryable: isTransientCode(code),
    fields: fieldsOf(err),
    cause: err,
  });
}

/** `api-usage=18/15000` (optionally `; per-app-api-usage=…`) → used and limit. */
export function parseLimitInfo(header: string | undefined | null): { used: number; limit: number } | undefined {
  const match = header ? /api-usage=(\d+)\/(\d+)/.exec(header) : null;
  return match ? { used: Number(match[1]), limit: Number(match[2]) } : undefined;
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

/** Belt and braces: strip anything token-shaped that could ride along in a message. */
export function redactSecrets(text: string): string {
  return text
    .replace(/(access_token|refresh_token|client_secret|code_verifier|sid)=[^&\s"']+/gi, "$1=[redacted]")
    .replace(/Bearer\s+[A-Za-z0-9._~+/=!-]+/g, "Bearer [redacted]")
    .replace(/\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]+/g, "[redacted session id]");
}
