import type { ClientContext, ConnectedAccount, ProviderEnvironment, ProviderIntegration, ProviderTokens } from "@leadsync/core";
import { startSalesforceSandbox, type AccountInfo, type SalesforceSandbox, type SalesforceSandboxOptions } from "@leadsync/salesforce-sandbox";
import { salesforceProvider } from "../src/index.js";
import { RecordingLimiter, silentLogger } from "./test-limiter.js";

export const MARKER = "jazzaam";

export function envFor(sandbox: SalesforceSandbox): ProviderEnvironment {
  return { apiBase: sandbox.url, clientId: sandbox.state.options.clientId, clientSecret: sandbox.state.options.clientSecret, marker: MARKER, requestTimeoutMs: 10_000 };
}

export interface Connected {
  sandbox: SalesforceSandbox;
  account: AccountInfo;
  env: ProviderEnvironment;
  connected: ConnectedAccount;
  limiter: RecordingLimiter;
  /** How often the context refreshed the token (forceRefresh). */
  refreshes: { count: number };
  context: ClientContext;
  /** The tokens as the "database" holds them now. */
  tokens: { current: ProviderTokens };
}

/** An emulated org connected through the provider, with a context that refreshes tokens the way the apps do. */
export async function connectedSandbox(options: SalesforceSandboxOptions = {}, sandboxGiven?: SalesforceSandbox): Promise<Connected> {
  const sandbox = sandboxGiven ?? (await startSalesforceSandbox({ grpcPort: false, ...options }));
  const account = sandbox.createAccount();
  const env = envFor(sandbox);
  const parsed = salesforceProvider.connectBody.safeParse(account.connect);
  if (!parsed.success) throw new Error("connect body rejected");
  const connected = await salesforceProvider.connect(parsed.data, env);
  const limiter = new RecordingLimiter();
  const refreshes = { count: 0 };
  const tokens = { current: connected.tokens };
  const integration: ProviderIntegration = {
    id: `int-${account.accountId}`,
    externalAccountId: connected.externalAccountId,
    authType: connected.authType,
    tier: connected.tier ?? "developer",
    settings: {},
    state: connected.state,
  };
  const context: ClientContext = {
    integration,
    env,
    async getAccessToken(opts) {
      if (opts?.forceRefresh) {
        refreshes.count++;
        tokens.current = await (salesforceProvider.refreshTokens as NonNullable<typeof salesforceProvider.refreshTokens>)(tokens.current, integration, env);
      }
      return tokens.current.accessToken;
    },
    limiter,
    logger: silentLogger,
    shared: { redis: undefined, keyPrefix: "test" },
  };
  return { sandbox, account, env, connected, limiter, refreshes, context, tokens };
}

export async function admin<T = unknown>(sandbox: SalesforceSandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body !== undefined ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Leads created as a person would in the UI. */
export async function seedLeads(sandbox: SalesforceSandbox, accountId: string, records: Array<Record<string, unknown>>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < records.length; i += 1000) {
    const { status, body } = await admin<{ ids: string[] }>(sandbox, "POST", `/__sandbox/accounts/${accountId}/records`, { records: records.slice(i, i + 1000) });
    if (status !== 201) throw new Error(`seeding failed: ${status} ${JSON.stringify(body)}`);
    ids.push(...body.ids);
  }
  return ids;
}

export async function recordsByEmail(sandbox: SalesforceSandbox, accountId: string, email: string): Promise<Array<Record<string, unknown>>> {
  return (await admin<Array<Record<string, unknown>>>(sandbox, "GET", `/__sandbox/accounts/${accountId}/records?email=${encodeURIComponent(email)}`)).body;
}

export const input = (n: number, properties: Record<string, string> = {}) => ({
  leadId: `lead-${n}`,
  email: `person${n}@example.com`,
  properties: { FirstName: `First${n}`, LastName: `Last${n}`, Company: "Acme", lead_source_system: MARKER, ...properties },
});
