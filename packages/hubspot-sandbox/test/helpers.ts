import { expect } from "vitest";
import { Client } from "@hubspot/api-client";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startSandbox, type PortalInfo, type Sandbox, type SandboxOptions } from "../src/index.js";

export const CLIENT_SECRET = "test-client-secret-0000";

export async function sandboxWithPortal(
  options: Partial<SandboxOptions> = {},
  portal: Parameters<Sandbox["createPortal"]>[0] = {},
): Promise<{ sandbox: Sandbox; portal: PortalInfo; client: Client }> {
  const sandbox = await startSandbox({ clientSecret: CLIENT_SECRET, ...options });
  const info = sandbox.createPortal(portal);
  return { sandbox, portal: info, client: sdkClient(sandbox, info.accessToken) };
}

export function sdkClient(sandbox: Sandbox, accessToken?: string): Client {
  return new Client({
    basePath: sandbox.url,
    developerApiKey: sandbox.app.developerApiKey,
    ...(accessToken !== undefined && { accessToken }),
  });
}

export async function admin<T = unknown>(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface ReceivedRequest {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  events: Array<Record<string, unknown>>;
}

/** A plain HTTP webhook receiver on a random port; `respond` decides each answer's status. */
export async function startReceiver(respond: (request: ReceivedRequest, index: number) => number = () => 200): Promise<{
  url: string;
  received: ReceivedRequest[];
  events: () => Array<Record<string, unknown>>;
  close: () => Promise<void>;
}> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const request: ReceivedRequest = { url: req.url ?? "", headers: req.headers, body, events: JSON.parse(body) as Array<Record<string, unknown>> };
      received.push(request);
      res.statusCode = respond(request, received.length - 1);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/hubspot`,
    received,
    events: () => received.flatMap((r) => r.events),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The SDK's ApiException (not exported from the package root): `code` is the HTTP status, `body` the parsed JSON. */
export interface SdkApiException {
  code: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export async function apiError(promise: Promise<unknown>): Promise<SdkApiException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!error || typeof error !== "object" || !("code" in error)) throw new Error(`expected the SDK to throw an ApiException, got ${String(error)}`);
  expect(error.constructor.name).toBe("ApiException");
  return error as unknown as SdkApiException;
}
