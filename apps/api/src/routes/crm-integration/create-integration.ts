import { providerEnvironment, providerModule, providerNames } from "@leadsync/providers";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { BadRequestError } from "../../errors.js";
import { authErrors, bearerSecurity, errorResponse, successResponse } from "../../schemas.js";
import { assertAccountConnectable, storeConnectedAccount } from "../../services/connected-accounts.js";
import { integrationJson, integrationSettingsInput, toIntegrationJson } from "./integration-json.js";

/**
 * `{ provider, settings?, …the provider's own credentials }`: the common part is checked here, the rest by the
 * provider's `connectBody` (HubSpot: portalId + accessToken | refreshToken, tier?; Salesforce: instanceUrl +
 * tokens; …), so each CRM keeps its own fields without this route naming any.
 */
const createIntegrationBody = z.looseObject({
  provider: z.enum(providerNames() as [string, ...string[]]),
  settings: integrationSettingsInput.optional(),
});

const createIntegration: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma, config, clients }) => {
  app.post(
    "", // the collection itself: /api/v1/<resource>, no trailing slash
    {
      schema: {
        tags: ["crm-integration"],
        summary: "Connect a CRM account: checks the credentials once, ensures the origin-marker field, stores the tokens encrypted",
        security: bearerSecurity,
        body: createIntegrationBody,
        response: { 200: successResponse(integrationJson), 201: successResponse(integrationJson), ...authErrors, 409: errorResponse, 422: errorResponse, 502: errorResponse },
      },
    },
    async (request, reply) => {
      const { provider, settings, ...credentials } = request.body;
      const module = providerModule(provider);
      const parsed = module.connectBody.safeParse(credentials);
      if (!parsed.success) {
        const issues = parsed.error.issues.flatMap((issue) => {
          const path = issue.path.map(String).join(".");
          const prefix = path ? `${path}.` : "";
          // A strict object reports unknown keys on its parent: name each key instead, as the route schemas do.
          const keys = (issue as { keys?: unknown }).keys;
          if (Array.isArray(keys)) return keys.map((key) => ({ field: `${prefix}${String(key)}`, message: "unknown field" }));
          return [{ field: path || "body", message: issue.message }];
        });
        throw new BadRequestError("validation_error", `Invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`, issues);
      }
      // Checked before calling the CRM where the body names the account, so a repeat spends none of its API budget.
      const named = module.accountIdOf?.(parsed.data);
      if (named !== undefined) await assertAccountConnectable(prisma, module, named, request.user.orgId);
      const account = await module.connect(parsed.data, providerEnvironment(config, provider));
      const { integration, reauthorised } = await storeConnectedAccount(
        { prisma, config, log: request.log, clearRefusedToken: (id) => clients.clearRefusedToken(id) },
        { orgId: request.user.orgId, module, account, settings },
      );
      const notes = [...(reauthorised ? ["Integration re-authorised: its settings, links and waiting jobs are kept."] : []), ...(account.warnings ?? [])];
      return reply.status(reauthorised ? 200 : 201).send({
        success: true as const,
        data: toIntegrationJson(integration),
        ...(notes.length > 0 ? { message: notes.join(" ") } : {}),
      });
    },
  );
};

export default createIntegration;
