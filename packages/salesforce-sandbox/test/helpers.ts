import { Connection, OAuth2 } from "jsforce";
import { startSalesforceSandbox, type AccountInfo, type SalesforceSandbox, type SalesforceSandboxOptions } from "../src/index.js";

/** The API version the tests pin (jsforce defaults to 50.0). */
export const API_VERSION = "59.0";

export async function sandboxWithAccount(options: SalesforceSandboxOptions = {}): Promise<{ sandbox: SalesforceSandbox; account: AccountInfo; conn: Connection }> {
  const sandbox = await startSalesforceSandbox({ grpcPort: false, ...options });
  const account = sandbox.createAccount();
  return { sandbox, account, conn: connection(sandbox, account) };
}

/** jsforce as LeadSync would build it: instance URL and session from the connect body, our call-options client id. */
export function connection(sandbox: SalesforceSandbox, account: AccountInfo, extra: Partial<ConstructorParameters<typeof Connection>[0]> = {}): Connection {
  return new Connection({
    instanceUrl: account.connect.instanceUrl,
    accessToken: account.connect.accessToken,
    version: API_VERSION,
    callOptions: { client: "leadsync" },
    ...extra,
  });
}

export function oauth2(sandbox: SalesforceSandbox, redirectUri = "http://127.0.0.1:9/callback", useVerifier = false): OAuth2 {
  const app = sandbox.state.options;
  return new OAuth2({ loginUrl: sandbox.url, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri, useVerifier });
}

export async function admin<T = unknown>(sandbox: SalesforceSandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** jsforce's HttpApiError: `errorCode`, `message`, and `data` (the parsed body). */
export interface JsforceError {
  name: string;
  errorCode: string;
  message: string;
  data: unknown;
}

export async function rejection(promise: PromiseLike<unknown>): Promise<JsforceError> {
  const error = await Promise.resolve(promise).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!error || typeof error !== "object") throw new Error("expected jsforce to throw");
  return error as JsforceError;
}

export const lead = (n: number, extra: Record<string, unknown> = {}) => ({ FirstName: `Ada${n}`, LastName: `Lovelace${n}`, Company: "Analytical Engines", Email: `ada${n}@example.com`, ...extra });

/** Polls until `check` holds (a loaded CI machine delivers late, never early); fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("waitFor: condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
