import type { FastifyInstance } from "fastify";
import { buildApp, type SandboxHandle } from "./app.js";
import { resolveOptions, type SandboxOptions } from "./options.js";

export { buildSandboxApp, type SandboxHandle } from "./app.js";
export type { AuthType, PortalInfo, SandboxOptions, SandboxTier } from "./options.js";
export type { PortalInput } from "./state/sandbox-state.js";
export { DEFAULT_SUBSCRIBED_PROPERTIES, SANDBOX_TIERS } from "./options.js";
export type { WebhookEvent } from "./webhooks/events.js";
export { signV1, signV3 } from "./webhooks/signing.js";

/** A running HubSpot emulator (see README.md). */
export interface Sandbox extends SandboxHandle {
  /** http://127.0.0.1:<port>, no trailing slash */
  url: string;
  /** stops delivery timers and the server */
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const resolved = resolveOptions(options);
  const { app, sandbox } = await buildApp(resolved);
  await app.listen({ port: resolved.port, host: resolved.host });
  return { ...sandbox, url: baseUrl(app, resolved.host), close: () => app.close() };
}

function baseUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("hubspot-sandbox: server has no TCP address");
  const printableHost = host.includes(":") ? `[${host}]` : host;
  return `http://${printableHost}:${address.port}`;
}
