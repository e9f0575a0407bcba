import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { v1, v2 } from "pipedrive";
import { startSandbox, type AccountInfo, type Sandbox, type SandboxOptions } from "../src/index.js";

export async function sandboxWithAccount(
  options: SandboxOptions = {},
  account: Parameters<Sandbox["createAccount"]>[0] = {},
): Promise<{ sandbox: Sandbox; account: AccountInfo; api: SdkApis }> {
  const sandbox = await startSandbox(options);
  const info = sandbox.createAccount(account);
  return { sandbox, account: info, api: sdk(sandbox, { apiKey: info.apiToken }) };
}

export interface SdkApis {
  persons: v2.PersonsApi;
  organizations: v2.OrganizationsApi;
  personFieldsV2: v2.PersonFieldsApi;
  personFields: v1.PersonFieldsApi;
  webhooks: v1.WebhooksApi;
  users: v1.UsersApi;
  leads: v1.LeadsApi;
}

/** The official SDK's API classes pointed at the sandbox by `basePath`, with an api token or an OAuth access token. */
export function sdk(sandbox: Sandbox, auth: { apiKey: string } | { accessToken: string | (() => Promise<string>) }): SdkApis {
  const c2 = new v2.Configuration({ ...auth, basePath: `${sandbox.url}/api/v2` });
  const c1 = new v1.Configuration({ ...auth, basePath: `${sandbox.url}/v1` });
  return {
    persons: new v2.PersonsApi(c2),
    organizations: new v2.OrganizationsApi(c2),
    personFieldsV2: new v2.PersonFieldsApi(c2),
    personFields: new v1.PersonFieldsApi(c1),
    webhooks: new v1.WebhooksApi(c1),
    users: new v1.UsersApi(c1),
    leads: new v1.LeadsApi(c1),
  };
}

export async function admin<T = unknown>(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A raw API call (for status codes and headers the SDK hides). */
export async function raw(sandbox: Sandbox, path: string, init: { method?: string; token?: string; bearer?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers["x-api-token"] = init.token;
  if (init.bearer !== undefined) headers["authorization"] = `Bearer ${init.bearer}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${sandbox.url}${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** What the SDK rejects with: the error envelope (its interceptor unwraps `error.response.data`). */
export async function sdkError(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!error || typeof error !== "object") throw new Error(`expected the SDK to reject, got ${String(error)}`);
  return error as Record<string, unknown>;
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: { meta: Record<string, unknown>; data: Record<string, unknown> | null; previous: Record<string, unknown> | null };
  at: number;
}

/** A plain HTTP webhook receiver on a random port; `respond` decides each answer (status, optional delay). */
export async function startReceiver(respond: (request: ReceivedRequest, index: number) => number | { status: number; delayMs: number } = () => 200) {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: ReceivedRequest = { headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ReceivedRequest["body"], at: Date.now() };
      received.push(request);
      const answer = respond(request, received.length - 1);
      const { status, delayMs } = typeof answer === "number" ? { status: answer, delayMs: 0 } : answer;
      setTimeout(() => {
        res.statusCode = status;
        res.end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/pipedrive`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("waitFor: timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
