import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Portal } from "../state/portal.js";
import type { SandboxState } from "../state/sandbox-state.js";

/** HubSpot's OAuth error body (hubspot-facts.md §7). */
function oauthError(status: string, error: string, description: string): Record<string, unknown> {
  return { status, message: description, correlationId: randomUUID(), error, error_description: description };
}

const SCOPES = ["oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read", "crm.schemas.contacts.write"];

/** The portal an install lands on: the one asked for, else the first OAuth portal, else a new one. */
function installPortal(state: SandboxState, portalId: number | undefined): Portal | string {
  if (portalId !== undefined) {
    const portal = state.portals.get(portalId);
    if (!portal) return `portal ${portalId} does not exist`;
    if (portal.authType !== "oauth") return `portal ${portalId} was created for a private app; create it with authType "oauth"`;
    return portal;
  }
  return [...state.portals.values()].find((p) => p.authType === "oauth") ?? state.createPortal({ authType: "oauth" });
}

/** `redirect_uri` with the callback's parameters added (an existing query string is kept). */
function callbackUrl(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

const authorizeQuery = z.object({
  client_id: z.string().optional(),
  redirect_uri: z.string().optional(),
  scope: z.string().optional(),
  optional_scope: z.string().optional(),
  state: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  // Sandbox only: the emulated user's answer to the install screen (default: POST /__sandbox/oauth/consent).
  portalId: z.coerce.number().int().optional(),
  decision: z.enum(["approve", "deny"]).optional(),
});

/** OAuth v1: the install screen (authorize), code and refresh-token grants, token metadata, refresh-token deletion. */
export const oauthRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  /**
   * HubSpot's install screen, answered at once by the emulated user: a 302 to `redirect_uri` with `code` and `state`
   * (or `error=access_denied` when the user declines). A request HubSpot would not even show the screen for (unknown
   * client, bad redirect URI, unknown scope) gets an error and no redirect, as HubSpot shows an error page.
   */
  app.get("/oauth/authorize", { schema: { querystring: authorizeQuery } }, async (request, reply) => {
    const query = request.query;
    if (query.client_id !== state.app.clientId) {
      return reply.code(400).send(oauthError("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id"));
    }
    if (query.redirect_uri === undefined || !URL.canParse(query.redirect_uri) || !/^https?:$/.test(new URL(query.redirect_uri).protocol)) {
      return reply.code(400).send(oauthError("BAD_REDIRECT_URI", "invalid_request", "redirect_uri must be an absolute http(s) URL"));
    }
    const scopes = (query.scope ?? "").split(/[\s+]+/).filter(Boolean);
    const unknown = scopes.filter((scope) => !SCOPES.includes(scope));
    if (scopes.length === 0 || unknown.length > 0) {
      const message = scopes.length === 0 ? "scope is required" : `unknown scopes: ${unknown.join(", ")}`;
      return reply.code(400).send(oauthError("BAD_SCOPES", "invalid_scope", message));
    }
    if (query.code_challenge !== undefined && query.code_challenge_method !== "S256") {
      return reply.code(400).send(oauthError("BAD_CODE_CHALLENGE", "invalid_request", "code_challenge_method must be S256"));
    }
    const decision = query.decision ?? state.consent.decision;
    if (decision === "deny") {
      return reply.redirect(callbackUrl(query.redirect_uri, { error: "access_denied", error_description: "The user declined to install the app", state: query.state }));
    }
    const portal = installPortal(state, query.portalId ?? state.consent.portalId);
    if (typeof portal === "string") return reply.code(400).send(oauthError("BAD_PORTAL", "invalid_request", portal));
    const code = state.authorizationCodes.issue({
      portalId: portal.portalId,
      clientId: query.client_id,
      redirectUri: query.redirect_uri,
      scopes,
      codeChallenge: query.code_challenge,
    });
    return reply.redirect(callbackUrl(query.redirect_uri, { code, state: query.state }));
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
          code_verifier: z.string().optional(),
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
      if (body.grant_type === "authorization_code") {
        const grant = state.authorizationCodes.redeem({ code: body.code, clientId: body.client_id, redirectUri: body.redirect_uri, codeVerifier: body.code_verifier });
        const portal = "portalId" in grant ? state.portals.get(grant.portalId) : undefined;
        if (!portal) {
          const refusal = "status" in grant ? grant : { status: "BAD_AUTH_CODE", description: "missing or unknown auth code" };
          return reply.code(400).send(oauthError(refusal.status, "invalid_grant", refusal.description));
        }
        const installed = state.installApp(portal);
        return {
          token_type: "bearer",
          access_token: installed.accessToken,
          refresh_token: installed.refreshToken,
          expires_in: Math.round((installed.expiresAt - Date.now()) / 1000),
        };
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
