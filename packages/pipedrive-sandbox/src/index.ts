import type { FastifyInstance } from "fastify";
import { buildApp, type SandboxHandle } from "./app.js";
import { resolveOptions, type SandboxOptions } from "./options.js";

export { buildSandboxApp, type SandboxHandle } from "./app.js";
export type { AccountInfo, AuthType, ConnectBody, SandboxOptions, SandboxPlan } from "./options.js";
export { SANDBOX_PLANS } from "./options.js";
export { BURST, DAILY_BASE_TOKENS, PLAN_MULTIPLIER, SEARCH_PER_WINDOW, tokenCost } from "./state/rate-limits.js";
export { MAX_WEBHOOKS_PER_USER } from "./routes/webhooks-api.js";

/** A running Pipedrive emulator (see README.md). */
export interface Sandbox extends SandboxHandle {
  /** http://127.0.0.1:<port>, no trailing slash: the `api_domain`; v1 is `${url}/v1`, v2 `${url}/api/v2` */
  url: string;
  /** stops delivery timers and the server */
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const resolved = resolveOptions(options);
  const { app, sandbox } = await buildApp(resolved);
  await app.listen({ port: resolved.port, host: resolved.host });
  return { ...sandbox, url: baseUrl(app, resolved.host), close: () => app.close() };
}

function baseUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("pipedrive-sandbox: server has no TCP address");
  const printableHost = host.includes(":") ? `[${host}]` : host;
  return `http://${printableHost}:${address.port}`;
}
