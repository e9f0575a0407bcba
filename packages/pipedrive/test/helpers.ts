import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AccountCallLimiter, ClientContext, ConnectedAccount, ProviderEnvironment, ProviderLogger, WebhookRequest } from "@leadsync/core";
import { CrmRateLimitedError } from "@leadsync/core";
import { startSandbox, type AccountInfo, type Sandbox, type SandboxOptions } from "@leadsync/pipedrive-sandbox";
import { pipedriveProvider } from "../src/index.js";

export const MARKER = "jazzaam";
export const SERVER_KEY = "test-server-key";

export const silentLogger: ProviderLogger = { info() {}, warn() {}, error() {}, debug() {}, child: () => silentLogger };

/** An `AccountCallLimiter` for tests: grants everything (unless told to refuse) and records what it was told. */
export class RecordingLimiter implements AccountCallLimiter {
  readonly acquired: { operation: string; cost: number }[] = [];
  readonly observed: { window: string; remaining?: number; limit?: number; resetInMs?: number }[] = [];
  readonly paused: { ms: number; reason: string }[] = [];
  refuse = false;

  async acquire(operation: string, cost = 1): Promise<void> {
    if (this.refuse) throw new CrmRateLimitedError("test limiter refuses", { retryAfterMs: 1000 });
    this.acquired.push({ operation, cost });
  }
  async observe(usage: { window: string; remaining?: number; limit?: number; resetInMs?: number }): Promise<void> {
    this.observed.push(usage);
  }
  async pause(ms: number, reason: string): Promise<void> {
    this.paused.push({ ms, reason });
  }
  tokensSpent(): number {
    return this.acquired.reduce((sum, a) => sum + a.cost, 0);
  }
}

export function envFor(sandbox: Sandbox, extra: Partial<ProviderEnvironment> = {}): ProviderEnvironment {
  return { apiBase: sandbox.url, marker: MARKER, requestTimeoutMs: 5000, clientId: sandbox.app.clientId, clientSecret: sandbox.app.clientSecret, ...extra };
}

export function deriveSecret(integrationId: string): string {
  return createHmac("sha256", SERVER_KEY).update(`pipedrive-webhook:${integrationId}`).digest("base64url");
}

export interface Connected {
  sandbox: Sandbox;
  account: AccountInfo;
  connected: ConnectedAccount;
  limiter: RecordingLimiter;
  context: ClientContext;
  integrationId: string;
}

export async function connectedSandbox(options: SandboxOptions = {}, accountInput: Parameters<Sandbox["createAccount"]>[0] = { plan: "premium" }): Promise<Connected> {
  const sandbox = await startSandbox(options);
  const account = sandbox.createAccount(accountInput);
  const connected = await pipedriveProvider.connect({ apiToken: account.apiToken, companyDomain: account.companyDomain }, envFor(sandbox));
  const limiter = new RecordingLimiter();
  const integrationId = `int-${account.accountId}`;
  const context: ClientContext = {
    integration: { id: integrationId, externalAccountId: connected.externalAccountId, authType: connected.authType, tier: connected.tier ?? "growth", settings: {}, state: connected.state },
    env: envFor(sandbox),
    getAccessToken: async () => connected.tokens.accessToken,
    limiter,
    logger: silentLogger,
    shared: { redis: null, keyPrefix: "test" },
  };
  return { sandbox, account, connected, limiter, context, integrationId };
}

export async function admin<T = unknown>(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface Verified {
  status: number;
  attempt: unknown;
  events: unknown[];
}

/**
 * A webhook receiver like the real one: runs the provider's verifier over the raw request and answers 401 for bad
 * credentials, else `respond(index)` (to make Pipedrive retry). Keeps every verified event.
 */
export async function startVerifyingReceiver(respond: (index: number) => number = () => 200) {
  const verified: Verified[] = [];
  let accepted = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: WebhookRequest = { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers, rawBody: Buffer.concat(chunks) };
      const result = pipedriveProvider.webhook?.verify(request, { deriveSecret, publicBaseUrl: "http://127.0.0.1", env: { marker: MARKER, requestTimeoutMs: 5000 } });
      if (!result?.ok) {
        res.statusCode = result?.status === "auth" ? 401 : result?.status === "ignore" ? 200 : 400;
        res.end();
        return;
      }
      const status = respond(accepted++);
      verified.push({ status, attempt: (result.events[0] as { meta: { attempt: unknown } }).meta.attempt, events: result.events });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/webhooks/pipedrive`,
    verified,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
