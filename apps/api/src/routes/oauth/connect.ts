import { providerEnvironment } from "@leadsync/providers";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { BadRequestError } from "../../errors.js";
import { authErrors, bearerSecurity, successResponse } from "../../schemas.js";
import { OAuthStates } from "./oauth-state.js";
import { oauthEnvVar, oauthProvider, oauthRedirectUri } from "./oauth-provider.js";

/**
 * `GET /api/v1/crm-integration/connect/:provider` (JWT): starts the OAuth connect flow for the caller's org. The answer's
 * `authorizeUrl` is where the platform sends the user's browser; the CRM then redirects it to our callback.
 */
const connectOAuth: FastifyPluginAsyncZod<ApiDeps> = async (app, { config, connection }) => {
  const states = new OAuthStates(connection, config.jwtSecret, config.queuePrefix);

  app.get(
    "/connect/:provider",
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Start the OAuth connect flow: the CRM's authorize URL (signed single-use state, PKCE), valid for 10 minutes",
        security: bearerSecurity,
        params: z.strictObject({ provider: z.string().min(1).max(40) }),
        response: { 200: successResponse(z.object({ authorizeUrl: z.string() })), ...authErrors },
      },
    },
    async (request) => {
      const { provider } = request.params;
      const { module, oauth } = oauthProvider(provider);
      const env = providerEnvironment(config, module.name);
      for (const [setting, value] of [["CLIENT_ID", env.clientId], ["CLIENT_SECRET", env.clientSecret]] as const) {
        if (!value) {
          const variable = oauthEnvVar(module.name, setting);
          throw new BadRequestError("oauth_not_configured", `${module.displayName} OAuth is not configured on this server: set ${variable}`, { missing: variable });
        }
      }
      const flow = await states.start(request.user.orgId, module.name);
      const authorizeUrl = oauth.authorizeUrl({ state: flow.state, redirectUri: oauthRedirectUri(config, module.name), codeChallenge: flow.codeChallenge, env });
      request.log.info({ provider: module.name, orgId: request.user.orgId }, "OAuth connect started");
      return { success: true as const, data: { authorizeUrl } };
    },
  );
};

export default connectOAuth;
