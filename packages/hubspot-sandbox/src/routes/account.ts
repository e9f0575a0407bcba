import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { portalOf } from "../http/api-guard.js";
import type { SandboxState } from "../state/sandbox-state.js";

/** `GET /account-info/v3/details`: what a client calls once to check a token and learn its portal. */
export const accountRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app) => {
  app.get("/account-info/v3/details", async (request) => {
    const portal = portalOf(request);
    return {
      portalId: portal.portalId,
      accountType: "STANDARD",
      timeZone: "US/Eastern",
      companyCurrency: "USD",
      additionalCurrencies: [],
      utcOffset: "-05:00",
      utcOffsetMilliseconds: -18_000_000,
      uiDomain: "app.hubspot.com",
      dataHostingLocation: "na1",
    };
  });
};
