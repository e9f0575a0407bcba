import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { DEFAULT_SCOPES } from "../state/oauth-tokens.js";
import type { SandboxState } from "../state/sandbox-state.js";

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `Authorization: Basic base64(client_id:client_secret)`, as Pipedrive's token endpoint requires. */
function clientAuthorized(state: SandboxState, header: string | undefined): boolean {
  const encoded = /^Basic\s+(.+)$/i.exec(header ?? "")?.[1];
  if (!encoded) return false;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  return safeEqual(decoded.slice(0, colon), state.app.clientId) && safeEqual(decoded.slice(colon + 1), state.app.clientSecret);
}

const oauthError = (error: string, description: string) => ({ success: false, error, error_description: description, message: description });

/**
 * Pipedrive's OAuth server (providers-facts §4.1): the authorize page (approved at once, for the account named by
 * `account_id` or the newest one), the token endpoint (form-encoded, HTTP Basic client auth, `authorization_code` and
 * `refresh_token` grants, `api_domain` = this sandbox's URL) and revoke. Spends no API budget.
 */
export const oauthRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  app.get(
    "/oauth/authorize",
    { schema: { querystring: z.object({ client_id: z.string(), redirect_uri: z.string(), state: z.string().optional(), account_id: z.coerce.number().int().optional(), scope: z.string().optional() }).passthrough() } },
    async (request, reply) => {
      const q = request.query;
      if (q.client_id !== state.app.clientId) return reply.code(400).type("text/html").send("<h1>Invalid client_id</h1>");
      const company = q.account_id !== undefined ? state.companies.get(q.account_id) : [...state.companies.values()].at(-1);
      if (!company) return reply.code(400).type("text/html").send("<h1>No such company</h1>");
      const scopes = q.scope ? q.scope.split(/[ ,]+/).filter(Boolean) : DEFAULT_SCOPES;
      const code = state.oauth.issueCode({ companyId: company.id, userId: company.admin.id, scopes }, q.redirect_uri, state.now());
      const target = new URL(q.redirect_uri);
      target.searchParams.set("code", code);
      if (q.state !== undefined) target.searchParams.set("state", q.state);
      return reply.redirect(target.toString(), 302);
    },
  );

  app.post("/oauth/token", { schema: { body: z.record(z.string(), z.string()) } }, async (request, reply) => {
    if (!clientAuthorized(state, request.headers.authorization)) return reply.code(401).send(oauthError("invalid_client", "Invalid client credentials"));
    const body = request.body;
    const apiDomain = `${request.protocol}://${request.headers.host ?? "127.0.0.1"}`;
    const now = state.now();
    if (body["grant_type"] === "authorization_code") {
      const exchanged = body["code"] ? state.oauth.exchangeCode(body["code"], body["redirect_uri"], now) : undefined;
      if (!exchanged) return reply.code(400).send(oauthError("invalid_grant", "Invalid or expired authorization code"));
      return tokenBody(exchanged.accessToken, exchanged.refreshToken, exchanged.grant.scopes, apiDomain);
    }
    if (body["grant_type"] === "refresh_token") {
      const refreshToken = body["refresh_token"];
      const refreshed = refreshToken ? state.oauth.useRefreshToken(refreshToken, now) : undefined;
      if (!refreshToken || !refreshed) return reply.code(400).send(oauthError("invalid_grant", "Invalid refresh token"));
      return tokenBody(refreshed.accessToken, refreshToken, refreshed.grant.scopes, apiDomain);
    }
    return reply.code(400).send(oauthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token"));
  });

  app.post("/oauth/revoke", { schema: { body: z.record(z.string(), z.string()) } }, async (request, reply) => {
    if (!clientAuthorized(state, request.headers.authorization)) return reply.code(401).send(oauthError("invalid_client", "Invalid client credentials"));
    const token = request.body["token"];
    if (token) state.oauth.revoke(decodeURIComponent(token));
    return reply.code(200).send({ success: true });
  });

  function tokenBody(accessToken: string, refreshToken: string, scopes: string[], apiDomain: string) {
    return {
      access_token: accessToken,
      token_type: "Bearer",
      refresh_token: refreshToken,
      scope: scopes.join(","),
      expires_in: state.oauth.expiresInSeconds(),
      api_domain: apiDomain,
    };
  }
};
