import type { Config } from "@leadsync/config";
import { encryptToken, type ConnectedAccount, type CrmProviderModule } from "@leadsync/core";
import type { CrmIntegration, PrismaClient } from "@leadsync/db";
import type { FastifyBaseLogger } from "fastify";
import { ConflictError, isUniqueViolation } from "../errors.js";
import { integrationSelect, settingsToColumns, type IntegrationSettingsInput } from "../routes/crm-integration/integration-json.js";

/**
 * Storing a CRM account that its provider connected (`connect` with credentials, or the OAuth callback's
 * `exchangeCode`): one integration row for the org, tokens encrypted at rest, the provider's state in
 * `settings.provider`. Both connect paths call this, so an integration is stored the same way whichever made it.
 */

type Provider = CrmIntegration["provider"];

export function accountConnectedError(module: Pick<CrmProviderModule, "displayName">, accountId: string): ConflictError {
  return new ConflictError("integration_exists", `${module.displayName} account ${accountId} is already connected`);
}

/** An account is connected once, by any org (the receiver routes its feed to one integration). */
export async function isAccountConnected(prisma: PrismaClient, provider: string, accountId: string): Promise<boolean> {
  const found = await prisma.crmIntegration.findFirst({ where: { provider: provider as Provider, externalAccountId: accountId }, select: { id: true } });
  return found !== null;
}

export interface StoreConnectedAccountInput {
  orgId: string;
  module: Pick<CrmProviderModule, "name" | "displayName">;
  account: ConnectedAccount;
  settings?: IntegrationSettingsInput | undefined;
}

/** Creates the integration; `409 integration_exists` when the account is already connected (also under a race). */
export async function storeConnectedAccount(
  { prisma, config, log }: { prisma: PrismaClient; config: Pick<Config, "encryptionKey">; log: FastifyBaseLogger },
  { orgId, module, account, settings }: StoreConnectedAccountInput,
) {
  if (await isAccountConnected(prisma, module.name, account.externalAccountId)) throw accountConnectedError(module, account.externalAccountId);
  const columns = settingsToColumns(settings);
  const integration = await prisma.crmIntegration
    .create({
      data: {
        orgId,
        provider: module.name as Provider,
        externalAccountId: account.externalAccountId,
        authType: account.authType,
        ...(account.tier !== undefined && { tier: account.tier }),
        accessTokenEnc: encryptToken(account.tokens.accessToken, config.encryptionKey),
        refreshTokenEnc: account.tokens.refreshToken === undefined ? null : encryptToken(account.tokens.refreshToken, config.encryptionKey),
        accessTokenExpiresAt: account.tokens.expiresAt === undefined ? null : new Date(account.tokens.expiresAt),
        ...columns,
        settings: { ...(columns.settings as Record<string, unknown>), provider: account.state } as object,
      },
      select: integrationSelect,
    })
    .catch((err: unknown) => {
      throw isUniqueViolation(err) ? accountConnectedError(module, account.externalAccountId) : err;
    });
  log.info({ integrationId: integration.id, orgId, provider: module.name, accountId: account.externalAccountId, authType: account.authType }, "CRM integration connected");
  return integration;
}
