import { isMutatingMethod } from "@leadsync/emulator-kit";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { apiGuard } from "./http/api-guard.js";
import { installErrorHandlers } from "./http/error-handler.js";
import { resolveOptions, type PortalInfo, type ResolvedOptions, type SandboxOptions } from "./options.js";
import { accountRoutes } from "./routes/account.js";
import { adminContactRoutes } from "./routes/admin-contacts.js";
import { adminFaultRoutes } from "./routes/admin-faults.js";
import { adminOAuthRoutes } from "./routes/admin-oauth.js";
import { adminPortalRoutes } from "./routes/admin-portals.js";
import { contactsBasicRoutes } from "./routes/contacts-basic.js";
import { contactsBatchRoutes } from "./routes/contacts-batch.js";
import { contactsSearchRoutes } from "./routes/contacts-search.js";
import { oauthRoutes } from "./routes/oauth.js";
import { propertiesRoutes } from "./routes/properties.js";
import { webhooksApiRoutes } from "./routes/webhooks-api.js";
import { SandboxState, type AppCredentials, type PortalInput } from "./state/sandbox-state.js";
import type { HubSpotSnapshot } from "./state/snapshot.js";

/** Admin seeding posts thousands of contacts at once. */
const BODY_LIMIT_BYTES = 10 * 1024 * 1024;

export interface SandboxHandle {
  app: AppCredentials;
  /** `portalId`/`accessToken` recreate a portal of an earlier run (same id, same private-app token). */
  createPortal(input?: PortalInput): PortalInfo;
  portals(): PortalInfo[];
  /** Puts contacts back with their earlier ids (no webhook events); new contacts get ids above them. */
  restoreContacts(portalId: number, contacts: readonly { id: string; properties: Record<string, string> }[]): void;
  /** waits until no webhook event is pending delivery; rejects after timeoutMs (default 10 s) */
  webhooksIdle(timeoutMs?: number): Promise<void>;
}

/**
 * The sandbox's app. `restore` loads an earlier run's state (a snapshot); `changed` is told after every request that
 * may have changed the state, and after the handle's own changes (the snapshot writer listens).
 */
export async function buildApp(
  options: ResolvedOptions,
  { restore, changed = () => undefined }: { restore?: HubSpotSnapshot | undefined; changed?: () => void } = {},
): Promise<{ app: FastifyInstance; state: SandboxState; sandbox: SandboxHandle }> {
  const state = new SandboxState(options);
  if (restore) state.restoreSnapshot(restore);
  const app: FastifyInstance = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger as FastifyBaseLogger }),
    // request logs would carry ?hapikey= and tokens in URLs: errors are logged by the error handler instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  app.addHook("onClose", async () => state.close());
  app.addHook("onResponse", async (request) => {
    if (isMutatingMethod(request.method)) changed();
  });

  // HubSpot's APIs behind a portal's bearer token: counted, rate limited, fault-injectable
  await app.register(async (api) => {
    api.addHook("onRequest", apiGuard(state));
    await api.register(contactsBasicRoutes, { state });
    await api.register(contactsBatchRoutes, { state });
    await api.register(contactsSearchRoutes, { state });
    await api.register(propertiesRoutes, { state });
    await api.register(accountRoutes, { state });
  });
  await app.register(webhooksApiRoutes, { state });
  await app.register(oauthRoutes, { state });
  await app.register(adminPortalRoutes, { state });
  await app.register(adminContactRoutes, { state });
  await app.register(adminFaultRoutes, { state });
  await app.register(adminOAuthRoutes, { state });

  const sandbox: SandboxHandle = {
    app: state.app,
    createPortal: (input) => {
      const portal = state.createPortal(input).info();
      changed();
      return portal;
    },
    portals: () => [...state.portals.values()].map((p) => p.info()),
    restoreContacts: (portalId, contacts) => {
      state.restoreContacts(portalId, contacts);
      changed();
    },
    webhooksIdle: (timeoutMs = 10_000) => state.delivery.idle(timeoutMs),
  };
  return { app, state, sandbox };
}

export async function buildSandboxApp(options: SandboxOptions): Promise<{ app: FastifyInstance; sandbox: SandboxHandle }> {
  const { app, sandbox } = await buildApp(resolveOptions(options));
  return { app, sandbox };
}
