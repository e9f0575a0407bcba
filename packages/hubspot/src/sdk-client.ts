import { Agent as HttpAgent, type AgentOptions } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { Client } from "@hubspot/api-client";

/**
 * `@hubspot/api-client` with the SDK's own retries and limiter really off (ARCHITECTURE: retries belong
 * to BullMQ, limits to our Redis limiter).
 *
 * Why this is more than `numberOfApiCallRetries: 0`: the SDK keeps its decorators (retry, Bottleneck) in a
 * process-wide singleton that every `new Client()` overwrites, and an API object picks them up when it is
 * first touched, `apiRequest` on every call (hubspot-facts.md §8). A client built elsewhere with retries
 * would otherwise make ours retry. So we touch the APIs we use while the singleton is empty, and run
 * `apiRequest` with it emptied, restoring whatever another client had set.
 */

export interface HubSpotClientOptions {
  accessToken?: string;
  /** For the webhooks v3 API (sent as `?hapikey=`). */
  developerApiKey?: string;
  /** `https://api.hubapi.com` or the sandbox URL; a trailing slash is removed (the SDK appends paths verbatim). */
  basePath: string;
  /** A call with no response (no bytes) for this long fails; default DEFAULT_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** The SDK's fetch has no timeout at all: a HubSpot that never answers would hold a job (and its batch) forever. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

interface DecoratorRegistry {
  decorators: unknown[];
  setDecorators(decorators: unknown[]): void;
}

// The singleton is not exported from the package root; the package has no `exports` map, so the file is reachable.
const require = createRequire(import.meta.url);
const decoratorRegistry = (): DecoratorRegistry =>
  (require("@hubspot/api-client/lib/src/services/ApiDecoratorService") as { default: { getInstance(): DecoratorRegistry } })
    .default.getInstance();

/** Runs `fn` with the SDK's decorator singleton empty, then restores it. `fn` must be synchronous. */
function withoutSdkDecorators<T>(fn: () => T): T {
  const registry = decoratorRegistry();
  const previous = registry.decorators;
  registry.setDecorators([]);
  try {
    return fn();
  } finally {
    registry.setDecorators(previous);
  }
}

export function createHubSpotClient(options: HubSpotClientOptions): Client {
  return withoutSdkDecorators(() => {
    const client = new Client({
      ...(options.accessToken === undefined ? {} : { accessToken: options.accessToken }),
      ...(options.developerApiKey === undefined ? {} : { developerApiKey: options.developerApiKey }),
      basePath: options.basePath.replace(/\/+$/, ""),
      numberOfApiCallRetries: 0,
      httpAgent: timeoutAgent(options.basePath, options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    });
    // Bind the APIs LeadSync uses now, undecorated (each discovery object is cached by the client).
    void client.crm.contacts.batchApi;
    void client.crm.properties.coreApi;
    void client.webhooks.subscriptionsApi;
    void client.oauth.tokensApi;
    const apiRequest = client.apiRequest.bind(client);
    client.apiRequest = (opts) => withoutSdkDecorators(() => apiRequest(opts));
    return client;
  });
}

/**
 * A keep-alive agent whose sockets are destroyed after `timeoutMs` without traffic. With an agent the SDK sends
 * through `http.request`, so the destroyed socket rejects the call (a retryable "no response" error).
 */
function timeoutAgent(basePath: string, timeoutMs: number): HttpAgent {
  const options: AgentOptions = { keepAlive: true, timeout: timeoutMs };
  const agent = basePath.startsWith("https:") ? new HttpsAgent(options) : new HttpAgent(options);
  const createConnection = agent.createConnection.bind(agent) as (...args: unknown[]) => Socket;
  agent.createConnection = ((...args: unknown[]) => {
    const socket = createConnection(...args);
    socket.setTimeout(timeoutMs);
    socket.on("timeout", () => socket.destroy(new Error(`HubSpot did not answer within ${timeoutMs} ms`)));
    return socket;
  }) as typeof agent.createConnection;
  return agent;
}
