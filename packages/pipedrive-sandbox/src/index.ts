import { buildWithSnapshot, definedOnly, listenForUrl, type SnapshotStatus } from "@leadsync/emulator-kit";
import { buildApp, type SandboxHandle } from "./app.js";
import { resolveOptions, type SandboxOptions } from "./options.js";
import { PIPEDRIVE_SNAPSHOT, pipedriveSnapshotSchema } from "./state/snapshot.js";

export { buildSandboxApp, type SandboxHandle } from "./app.js";
export type { AccountInfo, AuthType, ConnectBody, SandboxOptions, SandboxPlan } from "./options.js";
export { SANDBOX_PLANS } from "./options.js";
export { BURST, DAILY_BASE_TOKENS, PLAN_MULTIPLIER, SEARCH_PER_WINDOW, tokenCost } from "./state/rate-limits.js";
export { MAX_WEBHOOKS_PER_USER } from "./routes/webhooks-api.js";

/** A running Pipedrive emulator (see README.md). */
export interface Sandbox extends SandboxHandle {
  /** http://127.0.0.1:<port>, no trailing slash: the `api_domain`; v1 is `${url}/v1`, v2 `${url}/api/v2` */
  url: string;
  /** with `snapshotPath`: whether the previous run's state was loaded, or why not */
  snapshot: SnapshotStatus | undefined;
  /** stops delivery timers and the server (and saves the snapshot) */
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { snapshotPath } = options;
  const { built, status, writer } = await buildWithSnapshot({
    file: snapshotPath === undefined ? undefined : { path: snapshotPath, ...PIPEDRIVE_SNAPSHOT, parse: (state) => pipedriveSnapshotSchema.parse(state) },
    // the stored OAuth app is a default: options given here win
    build: async (restore, changed) => {
      const resolved = resolveOptions({ ...restore?.app, ...definedOnly(options) });
      return { resolved, ...(await buildApp(resolved, { restore, changed })) };
    },
    collect: ({ state }) => state.snapshot(),
    logger: options.logger,
  });
  const { app, sandbox, resolved } = built;
  const url = await listenForUrl(app, { port: resolved.port, host: resolved.host }, "pipedrive-sandbox");
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
