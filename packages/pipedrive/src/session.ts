import { CrmReauthRequiredError, type AccountCallLimiter, type ProviderLogger } from "@leadsync/core";
import { LIMIT_NAMES, OPERATION_COSTS, type PipedriveOperation } from "./budget.js";
import { fromHttpFailure, PipedriveApiError, PipedriveRateLimitedError, toPipedriveError } from "./errors.js";
import { createApis, httpInfoOf, PipedriveHttpFailure, type PipedriveApis } from "./sdk.js";

export interface SessionOptions {
  apiDomain: string;
  authType: "private_app" | "oauth";
  /** the api token, or the current OAuth access token (refreshed when forced) */
  getAccessToken(options?: { forceRefresh?: boolean }): Promise<string>;
  limiter: AccountCallLimiter;
  logger: ProviderLogger;
  timeoutMs?: number | undefined;
}

/** A limiter for calls outside any integration's budget (connect: a handful of calls before the integration exists). */
export const UNLIMITED: AccountCallLimiter = {
  acquire: async () => undefined,
  observe: async () => undefined,
  pause: async () => undefined,
};

/**
 * Every Pipedrive call of one account goes through `call`: take the operation's token cost from the shared limiter,
 * send through the SDK, feed the `x-ratelimit-*` headers back, pause the account on a 429 (burst: the window's reset;
 * daily budget: until UTC midnight) and throw `CrmRateLimitedError`. A 401 over OAuth refreshes the token once and
 * retries; a 401 that stays (or any 401 of an api token) means the credentials are gone: `CrmReauthRequiredError`.
 */
export class PipedriveSession {
  private cached: { token: string; apis: PipedriveApis } | undefined;

  constructor(private readonly options: SessionOptions) {}

  async call<T>(operation: PipedriveOperation, send: (apis: PipedriveApis) => Promise<T>): Promise<T> {
    const { limiter } = this.options;
    await limiter.acquire(operation, OPERATION_COSTS[operation]);
    try {
      for (let attempt = 0; ; attempt++) {
        const apis = await this.apis(attempt > 0);
        try {
          const result = await send(apis);
          await this.observe(httpInfoOf(result)?.headers);
          return result;
        } catch (err) {
          if (!(err instanceof PipedriveHttpFailure)) throw toPipedriveError(err, operation);
          await this.observe(err.headers);
          if (err.status === 401) {
            if (this.options.authType === "oauth" && attempt === 0) continue;
            throw new CrmReauthRequiredError(`Pipedrive refused the ${this.options.authType === "oauth" ? "OAuth access token after a refresh" : "API token"} (${operation})`);
          }
          const error = fromHttpFailure(err, operation);
          if (error instanceof PipedriveRateLimitedError) {
            this.options.logger.warn({ operation, policy: error.policy, retryAfterMs: error.retryAfterMs }, "Pipedrive refused a call for its rate limit; pausing the account");
            await limiter.pause(error.retryAfterMs, `pipedrive ${error.policy ?? "limit"}`);
          }
          throw error;
        }
      }
    } finally {
      await limiter.release?.(operation);
    }
  }

  private async apis(forceRefresh: boolean): Promise<PipedriveApis> {
    let token: string;
    try {
      token = await this.options.getAccessToken(forceRefresh ? { forceRefresh: true } : undefined);
    } catch (err) {
      if (err instanceof CrmReauthRequiredError || err instanceof PipedriveApiError) throw err;
      throw toPipedriveError(err, "access token lookup");
    }
    if (this.cached?.token !== token) {
      const auth = this.options.authType === "oauth" ? { accessToken: token } : { apiKey: token };
      this.cached = { token, apis: createApis(this.options.apiDomain, auth, this.options.timeoutMs) };
    }
    return this.cached.apis;
  }

  private async observe(headers: Record<string, string> | undefined): Promise<void> {
    if (!headers) return;
    const limit = Number(headers["x-ratelimit-limit"]);
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    if (!Number.isFinite(limit) && !Number.isFinite(remaining)) return;
    try {
      await this.options.limiter.observe({
        window: LIMIT_NAMES.burst,
        ...(Number.isFinite(limit) && { limit }),
        ...(Number.isFinite(remaining) && { remaining }),
        ...(Number.isFinite(reset) && { resetInMs: reset * 1000 }),
      });
    } catch (err) {
      // the call itself went through; a missed correction only makes the limiter less precise
      this.options.logger.warn({ err }, "could not record Pipedrive rate-limit headers");
    }
  }
}
