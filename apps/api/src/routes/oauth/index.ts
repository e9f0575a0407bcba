import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { pickDeps, type ApiDeps } from "../../deps.js";
import oauthCallback from "./callback.js";

/**
 * /api/v1/oauth — where CRMs send the browser back after the OAuth connect flow. No JWT: the signed, single-use state
 * names the org (the flow starts at GET /api/v1/crm-integration/connect/:provider, which is authenticated).
 */
const oauthRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  await app.register(oauthCallback, pickDeps(deps));
};

export default oauthRoutes;
export { default as connectOAuth } from "./connect.js";
