import { ProviderConnectError } from "@leadsync/core";
import { providerEnvironment } from "@leadsync/providers";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { AppError, BadRequestError } from "../../errors.js";
import { storeConnectedAccount } from "../../services/connected-accounts.js";
import { forgetPushingIntegrations } from "../../services/outbound.js";
import { errorResponse, successResponse } from "../../schemas.js";
import { integrationJson, toIntegrationJson } from "../crm-integration/integration-json.js";
import { OAuthStates } from "./oauth-state.js";
import { oauthProvider, oauthRedirectUri } from "./oauth-provider.js";
import { sendPage, wantsJson } from "./result-page.js";

/** Every query value the CRM sent, as strings (Zoho adds `accounts-server` and `location`; repeated keys: the first). */
const callbackQuery = z.record(z.string(), z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? (v[0] ?? "") : v)));

/**
 * `GET /api/v1/oauth/:provider/callback?code&state` (no JWT: the signed state names the org): checks and consumes the
 * state, exchanges the code through the provider (PKCE verifier from Redis), stores the integration as
 * `POST /api/v1/crm-integration` does. Every refusal is a 4xx (page or JSON), logged, with nothing stored.
 */
const oauthCallback: FastifyPluginAsyncZod<ApiDeps> = async (app, { config, prisma, connection, clients }) => {
  const states = new OAuthStates(connection, config.jwtSecret, config.queuePrefix);

  app.get(
    "/:provider/callback",
    {
      // Fastify's request lines would log the URL, which carries the authorization code: this route logs its own lines.
      logLevel: "warn",
      schema: {
        tags: ["crm-integration"],
        summary: "Where the CRM redirects the browser after the user approved (or declined) the connection: stores the integration",
        params: z.strictObject({ provider: z.string().min(1).max(40) }),
        querystring: callbackQuery,
        // The JSON answers (Accept: application/json); a browser gets the same statuses as an HTML page.
        response: {
          201: successResponse(integrationJson),
          400: errorResponse,
          404: errorResponse,
          409: errorResponse,
          422: errorResponse,
          502: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const { provider } = request.params;
      const query = request.query;
      const log = app.log.child({ reqId: request.id });
      let displayName = provider;
      let orgId: string | undefined;
      try {
        const { module, oauth } = oauthProvider(provider);
        displayName = module.displayName;
        const flow = await states.consume(query["state"], module.name);
        orgId = flow.orgId;
        const denied = query["error"];
        if (denied !== undefined) {
          const description = query["error_description"];
          throw new BadRequestError(
            denied === "access_denied" ? "oauth_access_denied" : "oauth_error",
            `${module.displayName} did not authorise the connection (${denied}${description ? `: ${description}` : ""})`,
          );
        }
        const code = query["code"];
        if (!code) throw new BadRequestError("code_missing", `${module.displayName} sent no authorization code; start the connection again`);

        const account = await oauth.exchangeCode({
          code,
          codeVerifier: flow.codeVerifier,
          redirectUri: oauthRedirectUri(config, module.name),
          query,
          env: providerEnvironment(config, module.name),
        });
        const { integration } = await storeConnectedAccount(
          { prisma, config, log, clearRefusedToken: (id) => clients.clearRefusedToken(id) },
          { orgId: flow.orgId, module, account },
        );
        forgetPushingIntegrations(prisma, flow.orgId);
        const data = toIntegrationJson(integration);
        const message = account.warnings && account.warnings.length > 0 ? account.warnings.join(" ") : undefined;
        if (wantsJson(request)) return reply.status(201).send({ success: true, data, ...(message !== undefined && { message }) });
        const page = `Connected ${module.displayName} account ${account.externalAccountId}. You can close this window.${message ? ` ${message}` : ""}`;
        return sendPage(reply, 201, `${module.displayName} connected`, page);
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) throw error; // ours or the infrastructure's: the error handler logs it and answers 500
        log.warn({ provider, orgId, code: refusal.code, statusCode: refusal.status }, `OAuth callback refused: ${refusal.message}`);
        if (wantsJson(request)) {
          const details = refusal.details === undefined ? {} : { details: refusal.details };
          // Every status refusalOf yields is a 4xx or 502 with the error shape; the schema lists those this route produces.
          return reply.status(refusal.status as 400).send({ success: false, error: { code: refusal.code, message: refusal.message, ...details } });
        }
        return sendPage(reply, refusal.status, `Could not connect ${displayName}`, refusal.message);
      }
    },
  );
};

/** The refusals the caller should see as they are: ours (AppError, 4xx) and the provider's (ProviderConnectError). */
function refusalOf(error: unknown): { status: number; code: string; message: string; details?: unknown } | undefined {
  if (error instanceof ProviderConnectError) return { status: error.status, code: error.code, message: error.message, details: error.details };
  if (error instanceof AppError && error.statusCode < 500) return { status: error.statusCode, code: error.code, message: error.message, details: error.details };
  return undefined;
}

export default oauthCallback;
