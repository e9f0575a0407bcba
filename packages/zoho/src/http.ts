import { CrmRateLimitedError, CrmReauthRequiredError, type AccountCallLimiter, type ProviderLogger } from "@leadsync/core";
import { ZOHO_CREDITS_WINDOW } from "./budget.js";
import { isRecord, ZohoApiError } from "./errors.js";

/**
 * The one way this package calls Zoho CRM: limiter first (credits, concurrency), the token's `api_domain`,
 * `Authorization: Zoho-oauthtoken`, Zoho's credit header back to the limiter, a 429 pauses the org for every process,
 * and `INVALID_TOKEN` is answered by one forced refresh and one retry (then the integration needs re-consent).
 */
export interface ZohoHttpOptions {
  apiDomain: string;
  getAccessToken(options?: { forceRefresh?: boolean }): Promise<string>;
  limiter?: AccountCallLimiter | undefined;
  timeoutMs: number;
  logger?: ProviderLogger | undefined;
}

export interface ZohoRequest {
  /** limiter operation and log name, e.g. `leads insert` */
  operation: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  credits?: number;
  /** Key of a per-item result list (`data`, `watch`, `fields`): a 4xx carrying it is an answer, not a failure. */
  itemsKey?: string;
}

export interface ZohoResponse {
  status: number;
  /** null for 204 */
  body: Record<string, unknown> | null;
}

/** A 429 says neither which limit refused nor when to come back: the concurrency cap clears in seconds… */
export const CONCURRENCY_PAUSE_MS = 5_000;
/**
 * …and the rolling 24 h credits in hours; we assume the latter when the last header said they were (nearly) spent.
 * An hour: the shared limiter then reports the pause as a daily allowance, and spends made 24 h ago free up meanwhile.
 */
export const CREDITS_PAUSE_MS = 60 * 60_000;

export class ZohoHttp {
  /** the last `X-API-CREDITS-REMAINING` seen (Zoho sends it from 50 % usage on) */
  private creditsRemaining: number | undefined;

  constructor(private readonly options: ZohoHttpOptions) {}

  get apiDomain(): string {
    return this.options.apiDomain;
  }

  async request(request: ZohoRequest): Promise<ZohoResponse> {
    const credits = request.credits ?? 1;
    const limiter = this.options.limiter;
    await limiter?.acquire(request.operation, credits);
    try {
      let response = await this.send(request, await this.token(false));
      if (response.status === 401 && codeOf(response.body) === "INVALID_TOKEN") {
        this.options.logger?.info({ operation: request.operation }, "Zoho refused the access token; refreshing once");
        response = await this.send(request, await this.token(true));
        if (response.status === 401) throw new CrmReauthRequiredError(`Zoho refused a freshly refreshed access token (${request.operation})`);
      }
      await this.observe(response.headers);
      if (response.status === 429) throw await this.rateLimited(request.operation, credits);
      return this.result(request, response.status, response.body);
    } finally {
      await limiter?.release?.(request.operation);
    }
  }

  private async token(forceRefresh: boolean): Promise<string> {
    return this.options.getAccessToken(forceRefresh ? { forceRefresh: true } : undefined);
  }

  private async send(request: ZohoRequest, token: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | null }> {
    const url = new URL(`${this.options.apiDomain.replace(/\/+$/, "")}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers: {
          authorization: `Zoho-oauthtoken ${token}`,
          accept: "application/json",
          ...(request.body === undefined ? {} : { "content-type": "application/json" }),
          ...request.headers,
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      throw new ZohoApiError(`Zoho ${request.operation} failed: ${(err as Error).message}`, undefined, undefined);
    }
    const text = await response.text();
    let body: Record<string, unknown> | null = null;
    if (text !== "") {
      try {
        const parsed: unknown = JSON.parse(text);
        body = isRecord(parsed) ? parsed : { value: parsed };
      } catch {
        body = { message: text.slice(0, 200) };
      }
    }
    return { status: response.status, headers: response.headers, body };
  }

  private result(request: ZohoRequest, status: number, body: Record<string, unknown> | null): ZohoResponse {
    if (status < 400) return { status, body };
    if (status < 500 && request.itemsKey !== undefined && body && Array.isArray(body[request.itemsKey])) return { status, body };
    const code = codeOf(body);
    const message = typeof body?.["message"] === "string" ? body["message"] : `HTTP ${status}`;
    const details = isRecord(body?.["details"]) ? body["details"] : {};
    throw new ZohoApiError(`Zoho ${request.operation}: ${code ?? status} ${message}`, status, code, details);
  }

  private async observe(headers: Headers): Promise<void> {
    const raw = headers.get("x-api-credits-remaining");
    if (raw === null || !/^\d+$/.test(raw)) return;
    this.creditsRemaining = Number(raw);
    try {
      await this.options.limiter?.observe({ window: ZOHO_CREDITS_WINDOW, remaining: this.creditsRemaining });
    } catch (err) {
      // the call succeeded; a missed correction only makes the limiter less precise
      this.options.logger?.warn({ err }, "could not record Zoho's remaining credits");
    }
  }

  private async rateLimited(operation: string, credits: number): Promise<CrmRateLimitedError> {
    const daily = this.creditsRemaining !== undefined && this.creditsRemaining < credits * 2;
    const retryAfterMs = daily ? CREDITS_PAUSE_MS : CONCURRENCY_PAUSE_MS;
    const reason = daily ? "Zoho credits for the rolling 24 h are spent" : "Zoho answered TOO_MANY_REQUESTS";
    this.options.logger?.warn({ operation, retryAfterMs, daily }, "Zoho answered 429; pausing the org");
    await this.options.limiter?.pause(retryAfterMs, reason);
    return new CrmRateLimitedError(`Zoho ${operation} deferred: ${reason}`, { retryAfterMs, policy: "TOO_MANY_REQUESTS", daily });
  }
}

export function codeOf(body: unknown): string | undefined {
  return isRecord(body) && typeof body["code"] === "string" ? body["code"] : undefined;
}
