import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { SandboxState, TokenGrant } from "../state/sandbox-state.js";

type Params = Record<string, string | undefined>;

const oauthError = (reply: FastifyReply, error: string, description: string, status = 400) =>
  reply.code(status).send({ error, error_description: description });

/**
 * OAuth 2.0 web-server flow with PKCE, refresh-token flow and revocation, at `/services/oauth2/…` as on
 * login.salesforce.com. The token reply has no `expires_in`: a session lasts the session timeout.
 */
export const oauthRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const tokenReply = (grant: TokenGrant) => {
    const id = state.idUrl(grant.org, grant.userId);
    return {
      access_token: grant.accessToken,
      ...(grant.refreshToken !== undefined && { refresh_token: grant.refreshToken }),
      signature: state.signature(id, grant.issuedAt),
      scope: "refresh_token api",
      instance_url: state.baseUrl,
      id,
      token_type: "Bearer",
      issued_at: String(grant.issuedAt),
    };
  };

  /**
   * The browser step: Salesforce would show its login and consent pages; the sandbox approves at once for the
   * org named by `login_hint` (an account id) or the first org, and redirects with `code` and `state`.
   */
  app.get<{ Querystring: Params }>("/services/oauth2/authorize", async (request, reply) => {
    const q = request.query;
    if (q["client_id"] !== state.options.clientId) return oauthError(reply, "invalid_client_id", "client identifier invalid");
    if (!q["redirect_uri"]) return oauthError(reply, "redirect_uri_mismatch", "redirect_uri must match configuration");
    const redirect = new URL(q["redirect_uri"]);
    const bounce = (params: Record<string, string>) => {
      for (const [k, v] of Object.entries(params)) redirect.searchParams.set(k, v);
      if (q["state"] !== undefined) redirect.searchParams.set("state", q["state"]);
      return reply.redirect(redirect.toString(), 302);
    };
    if (q["response_type"] !== "code") return bounce({ error: "unsupported_response_type", error_description: "response type not supported" });
    if (q["code_challenge_method"] !== undefined && q["code_challenge_method"] !== "S256") {
      return bounce({ error: "invalid_request", error_description: "invalid code_challenge_method" });
    }
    const org = (q["login_hint"] && state.orgs.get(q["login_hint"])) || [...state.orgs.values()][0] || state.createOrg();
    return bounce({ code: state.createCode(org, q["redirect_uri"], q["code_challenge"]) });
  });

  app.post<{ Body: Params }>("/services/oauth2/token", async (request, reply) => {
    const body = request.body ?? {};
    if (body["client_id"] !== state.options.clientId) return oauthError(reply, "invalid_client_id", "client identifier invalid");
    if (body["client_secret"] !== undefined && body["client_secret"] !== state.options.clientSecret) {
      return oauthError(reply, "invalid_client", "invalid client credentials");
    }
    if (body["grant_type"] === "authorization_code") {
      // Salesforce accepts a web-server flow without the secret only when PKCE proves the client
      if (body["client_secret"] === undefined && body["code_verifier"] === undefined) return oauthError(reply, "invalid_client", "invalid client credentials");
      const redeemed = state.redeemCode(body["code"] ?? "", body["redirect_uri"], body["code_verifier"]);
      if ("error" in redeemed) return oauthError(reply, redeemed.error, redeemed.description);
      return tokenReply(state.issueTokens(redeemed.org, redeemed.org.apiUserId, true));
    }
    if (body["grant_type"] === "refresh_token") {
      const grant = state.refresh(body["refresh_token"] ?? "");
      if (!grant) return oauthError(reply, "invalid_grant", "expired access/refresh token");
      const answer = tokenReply(grant);
      // without rotation Salesforce does not repeat the refresh token
      if (!state.options.refreshTokenRotation) delete (answer as { refresh_token?: string }).refresh_token;
      return answer;
    }
    return oauthError(reply, "unsupported_grant_type", "grant type not supported");
  });

  const revoke = async (token: string | undefined, reply: FastifyReply) => {
    if (!token || !state.revoke(token)) return oauthError(reply, "invalid_token", "invalid token");
    return reply.code(200).send();
  };
  app.post<{ Body: Params }>("/services/oauth2/revoke", async (request, reply) => revoke(request.body?.["token"], reply));
  app.get<{ Querystring: Params }>("/services/oauth2/revoke", async (request, reply) => revoke(request.query["token"], reply));

  /** The identity URL (`id` of the token reply). */
  app.get<{ Params: { orgId: string; userId: string } }>("/id/:orgId/:userId", async (request, reply) => {
    const token = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]?.trim();
    const lookup = token ? state.lookupAccessToken(token) : undefined;
    if (!lookup || "error" in lookup || lookup.org.orgId !== request.params.orgId) return reply.code(403).send("Bad_OAuth_Token");
    const { org, entry } = lookup;
    return {
      id: state.idUrl(org, entry.userId),
      user_id: entry.userId,
      organization_id: org.orgId,
      username: org.username,
      display_name: "Integration User",
      email: org.username,
      active: true,
      user_type: "STANDARD",
      urls: { rest: `${state.baseUrl}/services/data/v{version}/`, sobjects: `${state.baseUrl}/services/data/v{version}/sobjects/`, query: `${state.baseUrl}/services/data/v{version}/query/` },
    };
  });
};
