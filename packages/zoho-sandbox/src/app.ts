import { isMutatingMethod } from "@leadsync/emulator-kit";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { apiGuard } from "./http/api-guard.js";
import { installErrorHandlers } from "./http/error-handler.js";
import { installFormParsers } from "./http/form-bodies.js";
import type { ResolvedOptions } from "./options.js";
import { adminRoutes } from "./routes/admin.js";
import { fieldsRoutes } from "./routes/fields.js";
import { leadsRoutes } from "./routes/leads.js";
import { oauthRoutes } from "./routes/oauth.js";
import { orgUsersRoutes } from "./routes/org-users.js";
import { searchRoutes } from "./routes/search.js";
import { watchRoutes } from "./routes/watch.js";
import type { AccountInfo } from "./state/account.js";
import { SandboxState, type AppCredentials, type CreateAccountInput } from "./state/sandbox-state.js";
import type { ZohoSnapshot } from "./state/snapshot.js";

/** Admin seeding posts thousands of records at once. */
const BODY_LIMIT_BYTES = 10 * 1024 * 1024;

export interface SandboxHandle {
  app: AppCredentials;
  createAccount(input?: CreateAccountInput): AccountInfo;
  accounts(): AccountInfo[];
  /** waits until no notification is pending delivery; rejects after timeoutMs (default 10 s) */
  notificationsIdle(timeoutMs?: number): Promise<void>;
}

/**
 * The emulator's app. `restore` loads an earlier run's state (a snapshot); `changed` is told after every request that
 * may have changed the state, and after the handle's own changes (the snapshot writer listens).
 */
export async function buildApp(
  options: ResolvedOptions,
  { restore, changed = () => undefined }: { restore?: ZohoSnapshot | undefined; changed?: () => void } = {},
): Promise<{ app: FastifyInstance; state: SandboxState; sandbox: SandboxHandle }> {
  const state = new SandboxState(options);
  if (restore) state.restoreSnapshot(restore);
  const app: FastifyInstance = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger as FastifyBaseLogger }),
    // request logs would carry tokens (OAuth parameters travel in query strings at Zoho)
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installFormParsers(app);
  installErrorHandlers(app);
  app.addHook("onClose", async () => state.close());
  app.addHook("onResponse", async (request) => {
    if (isMutatingMethod(request.method)) changed();
  });

  // Zoho CRM's APIs behind an org's access token: counted, limited, fault-injectable
  await app.register(async (api) => {
    const guard = apiGuard(state);
    api.addHook("onRequest", guard.onRequest);
    api.addHook("preHandler", guard.preHandler);
    api.addHook("onResponse", guard.onResponse);
    await api.register(leadsRoutes, { state });
    await api.register(searchRoutes);
    await api.register(fieldsRoutes);
    await api.register(orgUsersRoutes);
    await api.register(watchRoutes, { state });
  });
  await app.register(oauthRoutes, { state });
  await app.register(adminRoutes, { state });

  const sandbox: SandboxHandle = {
    app: state.app,
    createAccount: (input) => {
      const account = state.info(state.createAccount(input));
      changed();
      return account;
    },
    accounts: () => [...state.accounts.values()].map((a) => state.info(a)),
    notificationsIdle: (timeoutMs = 10_000) => state.delivery.idle(timeoutMs),
  };
  return { app, state, sandbox };
}
