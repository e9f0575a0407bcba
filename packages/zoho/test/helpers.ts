import type { AccountCallLimiter, ClientContext, ConnectedAccount, ProviderEnvironment, ProviderIntegration, ProviderLogger, ProviderTokens } from "@leadsync/core";
import { startSandbox, type AccountInfo, type Sandbox, type SandboxOptions } from "@leadsync/zoho-sandbox";
import { zohoProvider } from "../src/index.js";

export const MARKER = "jazzaam";

export function envFor(sandbox: Sandbox): ProviderEnvironment {
  return { apiBase: sandbox.accountsUrl, clientId: sandbox.app.clientId, clientSecret: sandbox.app.clientSecret, marker: MARKER, requestTimeoutMs: 5000 };
}

/** Records what the client asks of the shared limiter (the Redis one comes from @leadsync/ratelimit). */
export class RecordingLimiter implements AccountCallLimiter {
  readonly acquisitions: { operation: string; cost: number }[] = [];
  readonly releases: string[] = [];
  readonly observed: { window: string; remaining?: number }[] = [];
  readonly pauses: { ms: number; reason: string }[] = [];

  async acquire(operation: string, cost = 1): Promise<void> {
    this.acquisitions.push({ operation, cost });
  }
  async release(operation: string): Promise<void> {
    this.releases.push(operation);
  }
  async observe(usage: { window: string; remaining?: number }): Promise<void> {
    this.observed.push(usage);
  }
  async pause(ms: number, reason: string): Promise<void> {
    this.pauses.push({ ms, reason });
  }
}

export const silentLogger: ProviderLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};

export interface Connected {
  sandbox: Sandbox;
  account: AccountInfo;
  connected: ConnectedAccount;
  integration: ProviderIntegration;
  context: ClientContext;
  limiter: RecordingLimiter;
  refreshes: () => number;
}

/** An emulator, one connected account and a client context whose token cache refreshes through the provider. */
export async function connectedAccount(options: SandboxOptions = {}, accountOptions: Parameters<Sandbox["createAccount"]>[0] = {}, integrationId = "int-1"): Promise<Connected> {
  const sandbox = await startSandbox({ notifyFlushMs: 20, notifyRetryDelaysMs: [50], ...options });
  const account = sandbox.createAccount(accountOptions);
  const env = envFor(sandbox);
  const connected = await zohoProvider.connect(account.connect, env);
  const integration: ProviderIntegration = { id: integrationId, externalAccountId: connected.externalAccountId, authType: "oauth", tier: connected.tier ?? "standard", settings: {}, state: connected.state };
  let tokens: ProviderTokens = connected.tokens;
  let refreshes = 0;
  const limiter = new RecordingLimiter();
  const context: ClientContext = {
    integration,
    env,
    limiter,
    logger: silentLogger,
    // Zoho keeps no cross-process state of its own: the shared limiter is `limiter`
    shared: { redis: null, keyPrefix: "test" },
    async getAccessToken(options) {
      if (options?.forceRefresh) {
        refreshes++;
        tokens = await (zohoProvider.refreshTokens as NonNullable<typeof zohoProvider.refreshTokens>)(tokens, integration, env);
      }
      return tokens.accessToken;
    },
  };
  return { sandbox, account, connected, integration, context, limiter, refreshes: () => refreshes };
}

export async function admin(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
