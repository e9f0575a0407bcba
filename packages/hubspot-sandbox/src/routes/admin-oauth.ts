import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { SandboxState } from "../state/sandbox-state.js";

/**
 * `/__sandbox/oauth/consent`: how the emulated user answers the next install screens (`GET /oauth/authorize`), for
 * tests that follow an authorize URL they did not build (a `portalId` / `decision` query parameter overrides it).
 */
export const adminOAuthRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/__sandbox/oauth/consent", async () => state.consent);

  app.post(
    "/__sandbox/oauth/consent",
    { schema: { body: z.strictObject({ decision: z.enum(["approve", "deny"]), portalId: z.number().int().optional() }) } },
    async (request) => {
      const { decision, portalId } = request.body;
      state.consent = portalId === undefined ? { decision } : { decision, portalId };
      return state.consent;
    },
  );
};
