import { isMutatingMethod } from "@leadsync/emulator-kit";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { apiContext, apiGuard } from "./http/api-guard.js";
import { installErrorHandlers } from "./http/error-handler.js";
import type { ResolvedOptions } from "./options.js";
import { accountInfo, adminAccountRoutes, createAccount, type AccountInfo, type AccountInput } from "./routes/admin-accounts.js";
import { adminFaultRoutes } from "./routes/admin-faults.js";
import { adminRecordRoutes } from "./routes/admin-records.js";
import { compositeRoutes } from "./routes/composite.js";
import { limitsRoutes } from "./routes/limits.js";
import { oauthRoutes } from "./routes/oauth.js";
import { queryRoutes } from "./routes/query.js";
import { replicationRoutes } from "./routes/replication.js";
import { sobjectRoutes } from "./routes/sobjects.js";
import { toolingRoutes } from "./routes/tooling.js";
import { versionRoutes } from "./routes/versions.js";
import { SandboxState } from "./state/sandbox-state.js";
import type { SalesforceSnapshot } from "./state/snapshot.js";

/** Admin seeding posts thousands of leads at once. */
const BODY_LIMIT_BYTES = 10 * 1024 * 1024;

export interface SandboxHandle {
  state: SandboxState;
  /** a new org; `customFields` as if an admin had created them (e.g. `{ Lead_Source_System__c: { externalId: true } }`) */
  createAccount(input?: AccountInput): AccountInfo;
  accounts(): AccountInfo[];
}

/**
 * The emulator's HTTP app. `restore` loads an earlier run's state (a snapshot); `changed` is told after every request
 * that may have changed the state, and after the handle's own changes (the snapshot writer listens).
 */
export async function buildApp(
  options: ResolvedOptions,
  { restore, changed = () => undefined }: { restore?: SalesforceSnapshot | undefined; changed?: () => void } = {},
): Promise<{ app: FastifyInstance; sandbox: SandboxHandle }> {
  const state = new SandboxState(options);
  if (restore) state.restoreSnapshot(restore);
  const app: FastifyInstance = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger as FastifyBaseLogger }),
    // request logs would carry tokens (revoke ?token=, authorize codes): errors are logged by the error handler instead
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  app.addHook("onResponse", async (request) => {
    if (isMutatingMethod(request.method)) changed();
  });

  // the REST API behind a session: counted against the org's allowance, limited, fault-injectable
  await app.register(async (api) => {
    api.addHook("onRequest", apiGuard(state));
    // the version's resources; `identity` names the session's org and user, as Salesforce's does
    api.get("/services/data/:version", async (request) => {
      const { org, session, version } = apiContext(request);
      const v = `/services/data/v${version}`;
      return {
        sobjects: `${v}/sobjects`,
        query: `${v}/query`,
        queryAll: `${v}/queryAll`,
        composite: `${v}/composite`,
        limits: `${v}/limits`,
        tooling: `${v}/tooling`,
        identity: state.idUrl(org, session.userId),
      };
    });
    await api.register(sobjectRoutes, { state });
    await api.register(replicationRoutes, { state });
    await api.register(compositeRoutes, { state });
    await api.register(queryRoutes, { state });
    await api.register(toolingRoutes, { state });
    await api.register(limitsRoutes, { state });
  });
  await app.register(versionRoutes);
  await app.register(oauthRoutes, { state });
  await app.register(adminAccountRoutes, { state });
  await app.register(adminRecordRoutes, { state });
  await app.register(adminFaultRoutes, { state });

  const sandbox: SandboxHandle = {
    state,
    createAccount: (input) => {
      const account = createAccount(state, input);
      changed();
      return account;
    },
    accounts: () => [...state.orgs.values()].map((org) => accountInfo(state, org)),
  };
  return { app, sandbox };
}
