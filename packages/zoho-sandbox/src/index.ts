import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { buildWithSnapshot, definedOnly, httpUrl, listenForUrl, type SnapshotStatus } from "@leadsync/emulator-kit";
import { buildApp, type SandboxHandle } from "./app.js";
import { resolveOptions, type SandboxOptions } from "./options.js";
import { ZOHO_SNAPSHOT, zohoSnapshotSchema } from "./state/snapshot.js";

export type { SandboxHandle } from "./app.js";
export type { SandboxOptions } from "./options.js";
export type { AccountInfo, ZohoConnectBody } from "./state/account.js";
export type { CallbackBody } from "./notify/delivery.js";
export { EDITIONS, creditsPerDay, concurrencyOf, type Edition } from "./state/editions.js";
export { DEFAULT_CHANNEL_LIFE_MS, MAX_CHANNEL_LIFE_MS, MAX_TOKEN_LENGTH } from "./state/channels.js";

/** A running Zoho CRM emulator (see README.md). */
export interface Sandbox extends SandboxHandle {
  /** the accounts server (OAuth, admin routes): http://127.0.0.1:<port> */
  url: string;
  /** the advertised accounts server (`accounts-server`) */
  accountsUrl: string;
  /** the advertised `api_domain`: the CRM API answers there only */
  apiDomain: string;
  /** with `snapshotPath`: whether the previous run's state was loaded, or why not */
  snapshot: SnapshotStatus | undefined;
  /** stops both listeners and delivery (and saves the snapshot) */
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { snapshotPath } = options;
  const { built, status, writer } = await buildWithSnapshot({
    file: snapshotPath === undefined ? undefined : { path: snapshotPath, ...ZOHO_SNAPSHOT, parse: (state) => zohoSnapshotSchema.parse(state) },
    // the stored OAuth client is a default: options given here win
    build: async (restore, changed) => {
      const resolved = resolveOptions({ ...restore?.app, ...definedOnly(options) });
      return { resolved, ...(await buildApp(resolved, { restore, changed })) };
    },
    collect: ({ state }) => state.snapshot(),
    logger: options.logger,
  });
  const { app, state, sandbox, resolved } = built;
  const url = await listenForUrl(app, { port: resolved.port, host: resolved.host }, "zoho-sandbox");
  // A second listener on the same routes plays the API domain (another host at Zoho).
  const apiServer: Server = createServer((req, res) => app.routing(req, res));
  // A taken API port rejects (an unhandled "error" event would crash the process instead), and the accounts server stops.
  await new Promise<void>((resolve, reject) => {
    apiServer.once("error", reject);
    apiServer.listen(resolved.apiPort, resolved.host, () => {
      apiServer.off("error", reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
  const apiUrl = httpUrl(resolved.host, (apiServer.address() as AddressInfo).port);
  state.apiPort = (apiServer.address() as AddressInfo).port;
  state.urls = { accountsUrl: resolved.accountsUrl ?? url, apiDomain: resolved.apiDomain ?? apiUrl };
  return {
    ...sandbox,
    url,
    accountsUrl: state.urls.accountsUrl,
    apiDomain: state.urls.apiDomain,
    snapshot: status,
    close: async () => {
      apiServer.closeAllConnections();
      await new Promise<void>((resolve) => apiServer.close(() => resolve()));
      await app.close();
      writer?.close();
    },
  };
}

export type { SnapshotStatus } from "@leadsync/emulator-kit";
