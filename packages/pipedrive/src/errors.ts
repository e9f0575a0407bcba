import { CrmRateLimitedError } from "@leadsync/core";
import { msUntilUtcMidnight } from "./budget.js";

/**
 * Pipedrive failures the client can act on: `retryable` tells BullMQ to try again; `status` decides per-record
 * outcomes (a 4xx fails that record alone). Messages come from Pipedrive's envelope (`error`, `error_info`), never
 * from the request, so they carry no token.
 */
export class PipedriveApiError extends Error {
  override readonly name = "PipedriveApiError";
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(message: string, init: { status?: number | undefined; retryable: boolean; cause?: unknown }) {
    super(redactSecrets(message), init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.retryable = init.retryable;
  }
}

/** A 429 (or Cloudflare's 403 page after ignoring 429s): the job is delayed, never failed. */
export class PipedriveRateLimitedError extends CrmRateLimitedError {
  override readonly name = "PipedriveRateLimitedError";
}

/** An HTTP answer as the client's axios interceptor captured it. */
export interface HttpFailure {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Cloudflare blocks api tokens that keep calling through 429s; the block lifts after a while. */
const CLOUDFLARE_BLOCK_MS = 60_000;
const BURST_RETRY_MS = 2_000;

function envelopeMessage(body: unknown): string {
  if (typeof body === "string") return body.includes("<html") || body.includes("<!DOCTYPE") ? "an HTML page" : body.slice(0, 200);
  if (body && typeof body === "object") {
    const { error, error_info: info, message } = body as Record<string, unknown>;
    const main = typeof error === "string" ? error : typeof message === "string" ? message : "no message";
    return typeof info === "string" && info !== "" ? `${main} (${info})` : main;
  }
  return "no message";
}

/**
 * Whether a 429 is the daily budget rather than the 2 s burst. Pipedrive sends no header for the daily budget: a 429
 * while the burst window still has room (`x-ratelimit-remaining` > 0) can only be the budget; the body saying so
 * decides too.
 */
function isDaily429(failure: HttpFailure): boolean {
  const remaining = Number(failure.headers["x-ratelimit-remaining"]);
  if (Number.isFinite(remaining) && remaining > 0) return true;
  return /daily|budget/i.test(envelopeMessage(failure.body));
}

export function fromHttpFailure(failure: HttpFailure, operation: string, now = Date.now()): PipedriveApiError | PipedriveRateLimitedError {
  const what = `Pipedrive ${operation} failed with HTTP ${failure.status}: ${envelopeMessage(failure.body)}`;
  if (failure.status === 429) {
    if (isDaily429(failure)) return new PipedriveRateLimitedError(what, { retryAfterMs: msUntilUtcMidnight(now), policy: "daily", daily: true });
    const resetSeconds = Number(failure.headers["x-ratelimit-reset"]);
    const retryAfterMs = Number.isFinite(resetSeconds) && resetSeconds > 0 ? resetSeconds * 1000 : BURST_RETRY_MS;
    return new PipedriveRateLimitedError(what, { retryAfterMs, policy: "burst" });
  }
  if (failure.status === 403 && typeof failure.body === "string" && /cloudflare/i.test(failure.body)) {
    return new PipedriveRateLimitedError(`Pipedrive ${operation} blocked by Cloudflare after repeated 429s`, { retryAfterMs: CLOUDFLARE_BLOCK_MS, policy: "cloudflare" });
  }
  return new PipedriveApiError(what, { status: failure.status, retryable: failure.status >= 500 || failure.status === 408 });
}

/** Anything an SDK call rejected with → a Pipedrive error; no response at all is transient. */
export function toPipedriveError(err: unknown, operation: string): PipedriveApiError | CrmRateLimitedError {
  if (err instanceof PipedriveApiError || err instanceof CrmRateLimitedError) return err;
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new PipedriveApiError(`Pipedrive ${operation} failed without a response: ${reason}`, { retryable: true, cause: err });
}

/** Belt and braces: strip anything token-shaped that could ride along in a message. */
export function redactSecrets(text: string): string {
  return text
    .replace(/(api_token|access_token|refresh_token|client_secret)=[^&\s"']+/gi, "$1=[redacted]")
    .replace(/(Bearer|Basic)\s+[A-Za-z0-9._~+/=:-]+/g, "$1 [redacted]");
}
