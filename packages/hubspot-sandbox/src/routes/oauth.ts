import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { SandboxState } from "../state/sandbox-state.js";

/** HubSpot's OAuth error body (hubspot-facts.md §7). */
function oauthError(status: string, error: string, description: string): Record<string, unknown> {
  return { status, message: description, correlationId: randomUUID(), error, error_description: description };
}

const SCOPES = ["oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read", "crm.schemas.contacts.write"];

/** OAuth v1: refresh-token grant, token metadata, refresh-token deletion. */
export const oauthRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post(
    "/oauth/v1/token",
    {
      schema: {
        body: z.object({
          grant_type: z.string(),
          client_id: z.string().optional(),
          client_secret: z.string().optional(),
          refresh_token: z.string().optional(),
          code: z.string().optional(),
          redirect_uri: z.string().optional(),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.client_id !== state.app.clientId) {
        return reply.code(400).send(oauthError("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id"));
      }
      if (body.client_secret !== state.app.clientSecret) {
        return reply.code(400).send(oauthError("BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret"));
      }
      if (body.grant_type !== "refresh_token") {
        return reply.code(400).send(oauthError("BAD_GRANT_TYPE", "unsupported_grant_type", `grant_type ${body.grant_type} is not supported by the sandbox`));
      }
      const refreshed = body.refresh_token === undefined ? undefined : state.refreshAccessToken(body.refresh_token);
      if (!refreshed) {
        return reply.code(400).send(oauthError("BAD_REFRESH_TOKEN", "invalid_grant", "refresh token is invalid, expired or revoked"));
      }
      return {
        token_type: "bearer",
        access_token: refreshed.accessToken,
        refresh_token: body.refresh_token,
        expires_in: Math.round((refreshed.expiresAt - Date.now()) / 1000),
      };
    },
  );

  app.get("/oauth/v1/access-tokens/:token", { schema: { params: z.object({ token: z.string() }) } }, async (request, reply) => {
    const lookup = state.lookupAccessToken(request.params.token);
    if ("error" in lookup) return reply.code(404).send(oauthError("error", "invalid_token", "Token not found or expired"));
    return {
      token: request.params.token,
      user: "sandbox-user@example.com",
      hub_domain: `portal-${lookup.portal.portalId}.sandbox.hubspot.test`,
      scopes: SCOPES,
      hub_id: lookup.portal.portalId,
      app_id: state.app.appId,
      expires_in: lookup.expiresAt === null ? 0 : Math.max(0, Math.round((lookup.expiresAt - Date.now()) / 1000)),
      user_id: lookup.portal.uiUserId,
      token_type: "access",
    };
  });

  app.delete("/oauth/v1/refresh-tokens/:token", { schema: { params: z.object({ token: z.string() }) } }, async (request, reply) => {
    const portal = [...state.portals.values()].find((p) => p.refreshToken === request.params.token);
    if (portal) state.revokeRefreshToken(portal);
    return reply.code(204).send();
  });
};
