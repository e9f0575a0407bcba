import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startSandbox, type AccountInfo, type Sandbox, type SandboxOptions } from "../src/index.js";

export interface Json {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test responses are checked field by field
}

async function json(response: Response): Promise<Json> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function sandboxWithAccount(options: SandboxOptions = {}, account: Parameters<Sandbox["createAccount"]>[0] = {}) {
  const sandbox = await startSandbox({ notifyFlushMs: 20, notifyRetryDelaysMs: [50, 100], ...options });
  const info = sandbox.createAccount(account);
  const accessToken = await mintToken(sandbox, info);
  return { sandbox, account: info, accessToken, api: apiClient(sandbox, accessToken) };
}

export async function mintToken(sandbox: Sandbox, account: AccountInfo): Promise<string> {
  const reply = await token(sandbox, { grant_type: "refresh_token", refresh_token: account.connect.refreshToken });
  if (typeof reply.body?.access_token !== "string") throw new Error(`no access token: ${JSON.stringify(reply.body)}`);
  return reply.body.access_token as string;
}

export async function token(sandbox: Sandbox, params: Record<string, string>): Promise<Json> {
  const body = new URLSearchParams({ client_id: sandbox.app.clientId, client_secret: sandbox.app.clientSecret, ...params });
  return json(await fetch(`${sandbox.accountsUrl}/oauth/v2/token`, { method: "POST", body }));
}

export function apiClient(sandbox: Sandbox, accessToken: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Json> =>
    json(
      await fetch(`${sandbox.apiDomain}${path}`, {
        method,
        headers: { authorization: `Zoho-oauthtoken ${accessToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
}

export async function admin(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<Json> {
  return json(
    await fetch(`${sandbox.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    }),
  );
}

export interface Received {
  url: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A plain HTTP callback receiver; `respond` picks each answer's status. */
export async function startReceiver(respond: (request: Received, index: number) => number = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = { url: req.url ?? "", body: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
      received.push(request);
      res.statusCode = respond(request, received.length - 1);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/webhooks/zoho`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const lead = (n: number, extra: Record<string, unknown> = {}) => ({
  Last_Name: `Last${n}`,
  First_Name: `First${n}`,
  Email: `lead${n}@example.com`,
  Company: `Company ${n}`,
  ...extra,
});

export async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
