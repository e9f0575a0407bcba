import type { AccountCallLimiter, ProviderLogger } from "@leadsync/core";
import { Connection } from "jsforce";
import { SALESFORCE_API_VERSION, SALESFORCE_CLIENT_ID } from "./constants.js";
import { SalesforceRateLimitedError, SalesforceReauthRequiredError, errorCodeOf, toSalesforceError } from "./errors.js";

/** A jsforce connection as we always build it: explicit version, our client id on every call, no jsforce-side refresh. */
export function createConnection(options: { instanceUrl: string; accessToken?: string; loginUrl?: string }): Connection {
  return new Connection({
    instanceUrl: options.instanceUrl,
    ...(options.accessToken === undefined ? {} : { accessToken: options.accessToken }),
    ...(options.loginUrl === undefined ? {} : { loginUrl: options.loginUrl }),
    version: SALESFORCE_API_VERSION,
    // Salesforce stamps this into CDC changeOrigin (`…;client=leadsync`): the feed tells our writes from a person's.
    callOptions: { client: SALESFORCE_CLIENT_ID },
  });
}

export interface JsforceRequestOptions {
  timeout?: number;
  retry: { maxRetries: number };
}

export function requestOptions(timeoutMs: number | undefined): JsforceRequestOptions {
  return { retry: { maxRetries: 0 }, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) };
}

export interface SessionOptions {
  instanceUrl: string;
  /** The stored token; `forceRefresh` after Salesforce refused it (it sends no expires_in, so refusal is the signal). */
  getAccessToken(options?: { forceRefresh?: boolean }): Promise<string>;
  limiter: AccountCallLimiter;
  logger: ProviderLogger;
  /** Per-request timeout (ms), for the calls that pass `timeout()` to jsforce. */
  requestTimeoutMs?: number;
}

/**
 * Every Salesforce call of one org goes through `call`: a unit of the shared budget first (and its concurrency slot
 * back afterwards, since long requests count against Salesforce's cap of concurrent ones), then jsforce, then the
 * `Sforce-Limit-Info` usage fed back to the limiter. A refused session gets one forced refresh and one retry; a
 * `REQUEST_LIMIT_EXCEEDED` pauses the org for every process.
 *
 * jsforce is given no refresh function on purpose: its own refresh-on-401 retries without bound and without our
 * limiter, and Salesforce's refresh must happen once for all processes (the caller's `getAccessToken`).
 */
export class SalesforceSession {
  private cached: { token: string; connection: Connection } | undefined;

  constructor(private readonly options: SessionOptions) {}

  get instanceUrl(): string {
    return this.options.instanceUrl;
  }

  /**
   * jsforce request options for `conn.request` calls: our timeout, and no retries of jsforce's own (it would resend
   * GETs on a 5xx up to 5 times, each a call the limiter never saw; the job's retry is ours to schedule).
   */
  requestOptions(): JsforceRequestOptions {
    return requestOptions(this.options.requestTimeoutMs);
  }

  async call<T>(operation: string, send: (connection: Connection) => Promise<T>): Promise<T> {
    try {
      return await this.attempt(operation, send, false);
    } catch (err) {
      if (errorCodeOf(err) !== "INVALID_SESSION_ID") throw toSalesforceError(err, operation);
      this.options.logger.info({ operation }, "Salesforce refused the session; refreshing the access token once");
      try {
        return await this.attempt(operation, send, true);
      } catch (retryErr) {
        if (errorCodeOf(retryErr) === "INVALID_SESSION_ID") {
          throw new SalesforceReauthRequiredError(`Salesforce ${operation}: the session was refused again after a token refresh; connect the integration again`);
        }
        throw toSalesforceError(retryErr, operation);
      }
    }
  }

  private async attempt<T>(operation: string, send: (connection: Connection) => Promise<T>, forceRefresh: boolean): Promise<T> {
    const limiter = this.options.limiter;
    await limiter.acquire(operation, 1);
    let connection: Connection | undefined;
    try {
      connection = await this.connection(forceRefresh);
      const result = await send(connection);
      await this.observe(connection);
      return result;
    } catch (err) {
      if (connection) await this.observe(connection);
      if (errorCodeOf(err) === "REQUEST_LIMIT_EXCEEDED") {
        const limited = toSalesforceError(err, operation) as SalesforceRateLimitedError;
        this.options.logger.warn({ operation, policy: limited.policy, retryAfterMs: limited.retryAfterMs }, "Salesforce answered REQUEST_LIMIT_EXCEEDED; pausing the org");
        await limiter.pause(limited.retryAfterMs, `Salesforce ${limited.policy} limit exceeded`);
        throw limited;
      }
      throw err;
    } finally {
      await limiter.release?.(operation);
    }
  }

  /** One jsforce connection per access token. */
  private async connection(forceRefresh: boolean): Promise<Connection> {
    let token: string;
    try {
      token = await this.options.getAccessToken(forceRefresh ? { forceRefresh: true } : undefined);
    } catch (err) {
      throw toSalesforceError(err, "access token lookup");
    }
    if (this.cached?.token !== token) this.cached = { token, connection: createConnection({ instanceUrl: this.options.instanceUrl, accessToken: token }) };
    return this.cached.connection;
  }

  private async observe(connection: Connection): Promise<void> {
    const usage = connection.limitInfo.apiUsage;
    if (!usage) return;
    try {
      await this.options.limiter.observe({ window: "daily", used: usage.used, limit: usage.limit, remaining: Math.max(0, usage.limit - usage.used) });
    } catch (err) {
      // The call itself succeeded; a missed correction only makes the limiter less precise.
      this.options.logger.warn({ err }, "could not record Salesforce API usage");
    }
  }
}
