import { isMutatingMethod } from "@leadsync/emulator-kit";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { apiGuard } from "./http/api-guard.js";
import { installErrorHandlers } from "./http/error-handler.js";
import { resolveOptions, type AccountInfo, type ResolvedOptions, type SandboxOptions, type SandboxPlan } from "./options.js";
import { adminRoutes } from "./routes/admin.js";
import { oauthRoutes } from "./routes/oauth.js";
import { organizationRoutes } from "./routes/organizations.js";
import { personFieldRoutes } from "./routes/person-fields.js";
import { personRoutes } from "./routes/persons.js";
import { searchRoutes } from "./routes/search.js";
import { usersLeadsRoutes } from "./routes/users-leads.js";
import { webhooksApiRoutes } from "./routes/webhooks-api.js";
import { SandboxState, type AppCredentials } from "./state/sandbox-state.js";
import type { PipedriveSnapshot } from "./state/snapshot.js";

/** Admin seeding posts thousands of persons at once. */
const BODY_LIMIT_BYTES = 10 * 1024 * 1024;

export interface SandboxHandle {
  app: AppCredentials;
  createAccount(input?: { plan?: SandboxPlan; seats?: number }): AccountInfo;
  accounts(): AccountInfo[];
  /** the sandbox's clock (the injected one plus `/__sandbox/clock` advances) */
  now(): number;
  advanceClock(ms: number): void;
  /** waits until no webhook event is pending delivery; rejects after timeoutMs (default 10 s) */
  webhooksIdle(timeoutMs?: number): Promise<void>;
}

/**
 * The emulator's app. `restore` loads an earlier run's state (a snapshot); `changed` is told after every request that
 * may have changed the state, and after the handle's own changes (the snapshot writer listens).
 */
export async function buildApp(
  options: ResolvedOptions,
  { restore, changed = () => undefined }: { restore?: PipedriveSnapshot | undefined; changed?: () => void } = {},
): Promise<{ app: FastifyInstance; state: SandboxState; sandbox: SandboxHandle }> {
  const state = new SandboxState(options);
  if (restore) state.restoreSnapshot(restore);
  const app: FastifyInstance = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger as FastifyBaseLogger }),
    // request logs would carry ?api_token= in URLs: errors are logged by the error handler instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // company-domain URLs carry v1 under /api/v1 (https://acme.pipedrive.com/api/v1/...); the SDK's default is /v1
    rewriteUrl: (request) => (request.url?.startsWith("/api/v1/") ? request.url.slice(4) : (request.url ?? "/")),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  app.addHook("onClose", async () => state.close());
  app.addHook("onResponse", async (request) => {
    if (isMutatingMethod(request.method)) changed();
  });

  // Pipedrive's APIs behind a token: counted, fault-injectable, scope-checked, rate limited
  await app.register(async (api) => {
    api.addHook("onRequest", apiGuard(state));
    await api.register(personRoutes, { state });
    await api.register(searchRoutes, { state });
    await api.register(organizationRoutes, { state });
    await api.register(personFieldRoutes, { state });
    await api.register(webhooksApiRoutes, { state });
    await api.register(usersLeadsRoutes, { state });
  });
  await app.register(oauthRoutes, { state });
  await app.register(adminRoutes, { state });

  const sandbox: SandboxHandle = {
    app: state.app,
    createAccount: (input) => {
      const account = state.createCompany(input).info();
      changed();
      return account;
    },
    accounts: () => [...state.companies.values()].map((c) => c.info()),
    now: () => state.now(),
    advanceClock: (ms) => {
      state.advanceClock(ms);
      changed();
    },
    webhooksIdle: (timeoutMs = 10_000) => state.delivery.idle(timeoutMs),
  };
  return { app, state, sandbox };
}

export async function buildSandboxApp(options: SandboxOptions = {}): Promise<{ app: FastifyInstance; sandbox: SandboxHandle }> {
  const { app, sandbox } = await buildApp(resolveOptions(options));
  return { app, sandbox };
}
