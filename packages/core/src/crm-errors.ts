/**
 * The failures every provider reports the same way, so the workers act on them without knowing the CRM:
 * - `CrmRateLimitedError`: no budget now (our limiter refused, or the CRM answered 429 / a limit error). The job
 *   is delayed by `retryAfterMs`, never failed. `daily` marks the account's daily allowance (one error-log row a day).
 * - `CrmReauthRequiredError`: the CRM refused the refresh token (or the credentials for good): the integration
 *   becomes `needs_reauth` and its jobs wait until the customer connects it again.
 * Provider packages throw these (or subclasses of them); everything else is a transient failure BullMQ retries,
 * unless the provider marks an input as failed in a per-record result.
 */

export class CrmRateLimitedError extends Error {
  override readonly name: string = "CrmRateLimitedError";
  readonly retryAfterMs: number;
  /** The limit that refused: the provider's policy name (e.g. TEN_SECONDLY_ROLLING, DAILY, TotalRequests). */
  readonly policy: string | undefined;
  /** True for a daily (or rolling 24 h) allowance, as opposed to a short window. */
  readonly daily: boolean;

  constructor(message: string, options: { retryAfterMs: number; policy?: string; daily?: boolean }) {
    super(message);
    this.retryAfterMs = Math.max(0, Math.ceil(options.retryAfterMs));
    this.policy = options.policy;
    this.daily = options.daily ?? false;
  }
}

export class CrmReauthRequiredError extends Error {
  override readonly name: string = "CrmReauthRequiredError";
}

/**
 * A CRM error that retrying cannot fix (a 4xx other than a rate limit): provider errors say so with
 * `retryable: false` (HubSpotApiError, and each provider's own error class).
 */
export function isPermanentCrmError(error: unknown): boolean {
  return error instanceof Error && (error as { retryable?: unknown }).retryable === false;
}

/** Duck-typed checks: subclasses from other module copies (tsx, vitest) still count. */
export function isCrmRateLimited(error: unknown): error is Error & Pick<CrmRateLimitedError, "retryAfterMs" | "daily" | "policy"> {
  if (error instanceof CrmRateLimitedError) return true;
  if (!(error instanceof Error)) return false;
  const candidate = error as Partial<CrmRateLimitedError>;
  return typeof candidate.retryAfterMs === "number" && typeof candidate.daily === "boolean";
}

export function isCrmReauthRequired(error: unknown): error is Error {
  return error instanceof CrmReauthRequiredError || (error instanceof Error && (error as { reauthRequired?: unknown }).reauthRequired === true);
}
