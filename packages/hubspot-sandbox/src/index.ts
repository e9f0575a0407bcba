import { buildWithSnapshot, definedOnly, listenForUrl, type SnapshotStatus } from "@leadsync/emulator-kit";
import { buildApp, type SandboxHandle } from "./app.js";
import { resolveOptions, type SandboxOptions } from "./options.js";
import { HUBSPOT_SNAPSHOT, hubspotSnapshotSchema } from "./state/snapshot.js";

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
  /** with `snapshotPath`: whether the previous run's state was loaded, or why not */
  snapshot: SnapshotStatus | undefined;
  /** stops delivery timers and the server (and saves the snapshot) */
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const { snapshotPath } = options;
  const { built, status, writer } = await buildWithSnapshot({
    file: snapshotPath === undefined ? undefined : { path: snapshotPath, ...HUBSPOT_SNAPSHOT, parse: (state) => hubspotSnapshotSchema.parse(state) },
    // the stored app ids are defaults: options given here win
    build: async (restore, changed) => {
      const resolved = resolveOptions({ ...restore?.app, ...definedOnly(options) });
      return { resolved, ...(await buildApp(resolved, { restore, changed })) };
    },
    collect: ({ state }) => state.snapshot(),
    logger: options.logger,
  });
  const { app, sandbox, resolved } = built;
  const url = await listenForUrl(app, { port: resolved.port, host: resolved.host }, "hubspot-sandbox");
  return {
    ...sandbox,
    url,
    snapshot: status,
    close: async () => {
      await app.close();
      writer?.close();
    },
  };
}

export type { SnapshotStatus } from "@leadsync/emulator-kit";
