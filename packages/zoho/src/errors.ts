/** A Zoho answer that is not a success: HTTP status, Zoho's `code` and `details` (providers-facts §3.6). */
export class ZohoApiError extends Error {
  override readonly name = "ZohoApiError";
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** 5xx and network failures are transient (BullMQ retries); 4xx are the request's fault. */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
