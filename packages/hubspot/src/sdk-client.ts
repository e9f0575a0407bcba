import { createRequire } from "node:module";
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
}

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
