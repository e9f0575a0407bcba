import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { notFound } from "../http/errors.js";
import { SANDBOX_TIERS } from "../options.js";
import type { Portal } from "../state/portal.js";
import type { SandboxState } from "../state/sandbox-state.js";

export const portalParams = z.object({ portalId: z.coerce.number().int() });

export function requirePortal(state: SandboxState, portalId: number): Portal {
  const portal = state.portals.get(portalId);
  if (!portal) throw notFound(`Portal ${portalId} not found`);
  return portal;
}

/** `/__sandbox` admin: the app, portals (create, tune limits, expire/revoke tokens) and their stats. No auth, no budget. */
export const adminPortalRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/__sandbox/app", async () => ({ ...state.app }));

  app.get("/__sandbox/portals", async () => [...state.portals.values()].map((p) => p.info()));

  app.post(
    "/__sandbox/portals",
    {
      schema: {
        // a bare POST (no body) creates a starter portal
        body: z
          .object({ tier: z.enum(SANDBOX_TIERS).optional(), authType: z.enum(["private_app", "oauth"]).optional() })
          .nullish()
          .transform((body) => body ?? {}),
      },
    },
    async (request, reply) => reply.code(201).send(state.createPortal(request.body).info()),
  );

  app.patch(
    "/__sandbox/portals/:portalId",
    {
      schema: {
        params: portalParams,
        body: z.object({
          tier: z.enum(SANDBOX_TIERS).optional(),
          dailyLimit: z.number().int().min(0).optional(),
          dailyUsed: z.number().int().min(0).optional(),
          rateLimitPer10s: z.number().int().min(0).optional(),
        }),
      },
    },
    async (request) => {
      const portal = requirePortal(state, request.params.portalId);
      const { tier, dailyLimit, dailyUsed, rateLimitPer10s } = request.body;
      if (tier !== undefined) portal.tier = tier;
      if (dailyLimit !== undefined) portal.overrides.dailyLimit = dailyLimit;
      if (rateLimitPer10s !== undefined) portal.overrides.rateLimitPer10s = rateLimitPer10s;
      if (dailyUsed !== undefined) portal.rateLimiter.dailyUsed = dailyUsed;
      return { ...portal.info(), limits: portal.limits(), dailyUsed: portal.rateLimiter.dailyUsed };
    },
  );

  app.get("/__sandbox/portals/:portalId/stats", { schema: { params: portalParams } }, async (request) => {
    const portal = requirePortal(state, request.params.portalId);
    return {
      calls: { total: portal.calls.total, byEndpoint: Object.fromEntries(portal.calls.byEndpoint) },
      throttled: portal.calls.throttled,
      webhooks: state.delivery.stats(portal.portalId),
      maxCallsInAnyWindow: portal.rateLimiter.maxCallsInAnyWindow,
      dailyUsed: portal.rateLimiter.dailyUsed,
    };
  });

  app.post("/__sandbox/portals/:portalId/revoke-refresh-token", { schema: { params: portalParams } }, async (request, reply) => {
    state.revokeRefreshToken(requirePortal(state, request.params.portalId));
    return reply.code(204).send();
  });

  app.post("/__sandbox/portals/:portalId/expire-access-token", { schema: { params: portalParams } }, async (request, reply) => {
    state.expireAccessTokens(requirePortal(state, request.params.portalId));
    return reply.code(204).send();
  });
};
