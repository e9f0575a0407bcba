import { encryptToken } from "@leadsync/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { ConflictError, isUniqueViolation } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse, successResponse } from "../../schemas.js";
import { verifyHubSpotConnection, type HubSpotCredentials } from "../../services/hubspot-connect.js";
import { integrationJson, integrationSelect, integrationSettingsInput, settingsToColumns, toIntegrationJson } from "./integration-json.js";

export const HUBSPOT_TIERS = ["free", "starter", "professional", "enterprise", "unlimited"] as const;

const token = z.string().trim().min(1).max(2048);

/** A private-app `accessToken`, or an OAuth `refreshToken` (exchanged once with the configured client id/secret). */
const createIntegrationBody = z
  .strictObject({
    provider: z.literal("hubspot"),
    accessToken: token.optional(),
    refreshToken: token.optional(),
    portalId: z.union([z.string().regex(/^\d{1,20}$/, "must be a numeric HubSpot portal id"), z.number().int().positive()]).transform(String),
    tier: z.enum(HUBSPOT_TIERS).optional(),
    settings: integrationSettingsInput.optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.accessToken === undefined) === (body.refreshToken === undefined)) {
      ctx.addIssue({ code: "custom", path: ["accessToken"], message: "give exactly one of accessToken (private app) or refreshToken (OAuth)" });
    }
  });

const createIntegration: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, config }) => {
  app.post(
    "", // the collection itself: /api/v1/<resource>, no trailing slash
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Connect a HubSpot portal: checks the token once, ensures lead_source_system, stores the token encrypted",
        security: bearerSecurity,
        body: createIntegrationBody,
        response: { 201: successResponse(integrationJson), ...authErrors, 409: errorResponse, 422: errorResponse, 502: errorResponse },
      },
    },
    async (request, reply) => {
      const { portalId, tier, settings, accessToken, refreshToken } = request.body;
      const conflict = () => new ConflictError("integration_exists", `HubSpot portal ${portalId} is already connected`);
      // Checked before calling HubSpot so a repeat does not spend the portal's API budget; the unique index decides races.
      const existing = await prisma.crmIntegration.findFirst({ where: { provider: "hubspot", externalAccountId: portalId }, select: { id: true } });
      if (existing) throw conflict();

      const credentials: HubSpotCredentials = refreshToken !== undefined ? { refreshToken } : { accessToken: accessToken ?? "" };
      const connection = await verifyHubSpotConnection(config, portalId, credentials);
      const integration = await prisma.crmIntegration
        .create({
          data: {
            orgId: request.user.orgId,
            provider: "hubspot",
            externalAccountId: portalId,
            authType: connection.authType,
            ...(tier !== undefined && { tier }),
            accessTokenEnc: encryptToken(connection.accessToken, config.encryptionKey),
            refreshTokenEnc: connection.refreshToken === undefined ? null : encryptToken(connection.refreshToken, config.encryptionKey),
            accessTokenExpiresAt: connection.accessTokenExpiresAt ?? null,
            ...settingsToColumns(settings),
          },
          select: integrationSelect,
        })
        .catch((err: unknown) => {
          throw isUniqueViolation(err) ? conflict() : err;
        });
      request.log.info({ integrationId: integration.id, portalId, authType: connection.authType }, "CRM integration connected");
      return reply.status(201).send({ success: true as const, data: toIntegrationJson(integration) });
    },
  );
};

export default createIntegration;
