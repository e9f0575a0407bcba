import { buildWithSnapshot, definedOnly, listenForUrl, type SnapshotStatus } from "@leadsync/emulator-kit";
import { buildApp, type SandboxHandle } from "./app.js";
import { startPubSubServer } from "./grpc/server.js";
import { resolveOptions, type SalesforceSandboxOptions } from "./options.js";
import { SALESFORCE_SNAPSHOT, salesforceSnapshotSchema } from "./state/snapshot.js";

export type { SandboxHandle } from "./app.js";
export type { SalesforceSandboxOptions } from "./options.js";
export type { AccountInfo, AccountInput, SalesforceConnect } from "./routes/admin-accounts.js";
export type { CustomFieldMetadata } from "./state/lead-fields.js";
export type { ChangeEvent, ChangeType } from "./cdc/change-log.js";
export { checksumSuffix, isWellFormedId } from "./state/ids.js";
export { CDC_TOPICS, encodeReplayId } from "./grpc/server.js";
export { PUBSUB_ERROR_CODES } from "./grpc/errors.js";

/** A running Salesforce emulator (see README.md). */
export interface SalesforceSandbox extends SandboxHandle {
  /** http://127.0.0.1:<port>, no trailing slash: instance URL and login URL alike */
  url: string;
  /** `127.0.0.1:<port>` of the Pub/Sub API (gRPC), undefined with `grpcPort: false` */
  grpcUrl: string | undefined;
  grpcPort: number | undefined;
  /** `grpc://127.0.0.1:<port>`, or `grpcs://…` with `grpcTls`; undefined with `grpcPort: false` */
  pubsubUrl: string | undefined;
  /** with `grpcTls`: the generated root CA the gRPC server's certificate chains to */
  tls: { caPem: string } | undefined;
  /** with `snapshotPath`: whether the previous run's state was loaded, or why not */
  snapshot: SnapshotStatus | undefined;
  /** stops the gRPC and HTTP servers (and saves the snapshot) */
  close(): Promise<void>;
}

export async function startSalesforceSandbox(options: SalesforceSandboxOptions = {}): Promise<SalesforceSandbox> {
  const { snapshotPath } = options;
  const { built, status, writer } = await buildWithSnapshot({
    file: snapshotPath === undefined ? undefined : { path: snapshotPath, ...SALESFORCE_SNAPSHOT, parse: (state) => salesforceSnapshotSchema.parse(state) },
    // the stored consumer key and secret are defaults: options given here win
    build: async (restore, changed) => {
      const resolved = resolveOptions({ ...restore?.app, ...definedOnly(options) });
      return { resolved, ...(await buildApp(resolved, { restore, changed })) };
    },
    collect: ({ sandbox }) => sandbox.state.snapshot(),
    logger: options.logger,
  });
  const { app, sandbox, resolved } = built;
  const url = await listenForUrl(app, { port: resolved.port, host: resolved.host }, "salesforce-sandbox");
  sandbox.state.baseUrl = url;
  // loaded only when asked for: certificate generation pulls in @peculiar/x509 and a Reflect polyfill
  const tls = resolved.grpcPort !== false && resolved.grpcTls ? await (await import("./grpc/tls.js")).generateSandboxTls() : undefined;
  const grpc = resolved.grpcPort === false ? undefined : await startPubSubServer(sandbox.state, { host: resolved.host, port: resolved.grpcPort, tls });
  const printableHost = resolved.host.includes(":") ? `[${resolved.host}]` : resolved.host;
  if (grpc) sandbox.state.pubsub = { url: `${tls ? "grpcs" : "grpc"}://${printableHost}:${grpc.port}`, caPem: tls?.caPem };
  return {
    ...sandbox,
    url,
    grpcUrl: grpc ? `${printableHost}:${grpc.port}` : undefined,
    pubsubUrl: sandbox.state.pubsub?.url,
    grpcPort: grpc?.port,
    tls: tls ? { caPem: tls.caPem } : undefined,
    snapshot: status,
    close: async () => {
      await grpc?.close();
      await app.close();
      writer?.close();
    },
  };
}

export type { SnapshotStatus } from "@leadsync/emulator-kit";
