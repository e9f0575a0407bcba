import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { SandboxState } from "../state/sandbox-state.js";

const SCOPE = "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.ALL,ZohoCRM.notifications.ALL,ZohoCRM.org.READ,ZohoCRM.users.READ";
const TOO_MANY = {
  error_description: "You have made too many requests continuously. Please try again after some time.",
  error: "Access Denied",
  status: "failure",
};

const authorizeQuery = z.object({
  client_id: z.string().optional(),
  response_type: z.string().optional(),
  redirect_uri: z.string().optional(),
  scope: z.string().optional(),
  state: z.string().optional(),
  access_type: z.string().optional(),
  prompt: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  /** emulator extension: which org consents (default the newest) */
  account_id: z.string().optional(),
});

const tokenParams = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  refresh_token: z.string().optional(),
  token: z.string().optional(),
});

/**
 * Zoho Accounts OAuth: `/oauth/v2/auth` consents at once and redirects with `code`, `location` and
 * `accounts-server`; `/oauth/v2/token` answers Zoho's shapes (errors are HTTP 200 `{"error":"invalid_code"}`;
 * minting more than the window allows answers `Access Denied`). Parameters are read from the query or a form body.
 */
export const oauthRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/oauth/v2/auth", { schema: { querystring: authorizeQuery } }, async (request, reply) => {
    const q = request.query;
    if (q.client_id !== state.app.clientId) return reply.code(400).send({ error: "invalid_client" });
    if (q.response_type !== "code" || !q.redirect_uri || !URL.canParse(q.redirect_uri)) return reply.code(400).send({ error: "invalid_request" });
    const account = q.account_id === undefined ? [...state.accounts.values()].at(-1) : state.accounts.get(q.account_id);
    if (!account) return reply.code(400).send({ error: "no_account", error_description: "create an account with POST /__sandbox/accounts first" });
    if (q.code_challenge !== undefined && q.code_challenge_method !== "S256") return reply.code(400).send({ error: "invalid_request" });
    const code = state.tokens.newGrantCode(account.accountId, q.redirect_uri, q.code_challenge);
    const target = new URL(q.redirect_uri);
    if (q.state !== undefined) target.searchParams.set("state", q.state);
    target.searchParams.set("code", code);
    target.searchParams.set("location", state.options.location);
    target.searchParams.set("accounts-server", state.urls.accountsUrl);
    return reply.redirect(target.toString(), 302);
  });

  app.post("/oauth/v2/token", { schema: { querystring: tokenParams } }, async (request, reply) => {
    const p = { ...request.query, ...(tokenParams.safeParse(request.body ?? {}).data ?? {}) };
    if (p.client_id !== state.app.clientId || p.client_secret !== state.app.clientSecret) return { error: "invalid_client" };
    const ttl = state.options.accessTokenTtlSeconds;
    if (p.grant_type === "authorization_code") {
      const redeemed = p.code === undefined ? undefined : state.tokens.redeemCode(p.code, p.redirect_uri, p.code_verifier);
      if (!redeemed) return { error: "invalid_code" };
      const refreshToken = state.tokens.newRefreshToken(redeemed.accountId);
      const minted = state.tokens.mint(refreshToken);
      if ("error" in minted) return { error: "invalid_code" };
      return { access_token: minted.accessToken, refresh_token: refreshToken, scope: SCOPE, api_domain: state.urls.apiDomain, token_type: "Bearer", expires_in: ttl };
    }
    if (p.grant_type === "refresh_token") {
      if (p.refresh_token === undefined) return { error: "invalid_code" };
      const minted = state.tokens.mint(p.refresh_token);
      if ("error" in minted) return minted.error === "Access Denied" ? reply.code(400).send(TOO_MANY) : { error: "invalid_code" };
      return { access_token: minted.accessToken, scope: SCOPE, api_domain: state.urls.apiDomain, token_type: "Bearer", expires_in: ttl };
    }
    return { error: "unsupported_grant_type" };
  });

  app.post("/oauth/v2/token/revoke", { schema: { querystring: tokenParams } }, async (request) => {
    const p = { ...request.query, ...(tokenParams.safeParse(request.body ?? {}).data ?? {}) };
    if (p.token !== undefined) state.tokens.revoke(p.token);
    return { status: "success" };
  });
};
