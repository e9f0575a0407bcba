import type { Config } from "@leadsync/config";
import { encryptToken, type ConnectedAccount, type CrmProviderModule } from "@leadsync/core";
import type { CrmIntegration, PrismaClient } from "@leadsync/db";
import type { FastifyBaseLogger } from "fastify";
import { ConflictError, isUniqueViolation } from "../errors.js";
import { UNDATED_TOKEN_REFRESH_MS } from "@leadsync/providers";
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

/**
 * Whether connecting this account for `orgId` may go on: an account is connected once, by any org (the receiver
 * routes its feed to one integration); connecting it again is allowed only to re-authorise the org's own integration
 * after the CRM refused its tokens (`needs_reauth`).
 */
export async function assertAccountConnectable(prisma: PrismaClient, module: Pick<CrmProviderModule, "name" | "displayName">, accountId: string, orgId: string): Promise<void> {
  const found = await prisma.crmIntegration.findFirst({
    where: { provider: module.name as Provider, externalAccountId: accountId },
    select: { orgId: true, status: true },
  });
  if (found && !(found.orgId === orgId && found.status === "needs_reauth")) throw accountConnectedError(module, accountId);
}

export interface StoreDeps {
  prisma: PrismaClient;
  config: Pick<Config, "encryptionKey">;
  log: FastifyBaseLogger;
  /** Forgets a refused refresh token's marker, so the new tokens are used at once (AccessTokenCache.clearInvalid). */
  clearRefusedToken(integrationId: string): Promise<void>;
}

export interface StoreConnectedAccountInput {
  orgId: string;
  module: Pick<CrmProviderModule, "name" | "displayName">;
  account: ConnectedAccount;
  settings?: IntegrationSettingsInput | undefined;
}

/**
 * Creates the integration, or re-authorises the org's `needs_reauth` integration of the same account (new tokens,
 * status active, its settings, links and feed kept: its waiting jobs go on). `409 integration_exists` when the account
 * is connected otherwise (also under a race). `reauthorised` says which happened.
 */
export async function storeConnectedAccount(deps: StoreDeps, { orgId, module, account, settings }: StoreConnectedAccountInput) {
  const { prisma, config, log } = deps;
  await assertAccountConnectable(prisma, module, account.externalAccountId, orgId);
  const tokens = {
    authType: account.authType,
    accessTokenEnc: encryptToken(account.tokens.accessToken, config.encryptionKey),
    refreshTokenEnc: account.tokens.refreshToken === undefined ? null : encryptToken(account.tokens.refreshToken, config.encryptionKey),
    accessTokenExpiresAt: tokenExpiry(account),
  };
  const stale = await prisma.crmIntegration.findFirst({
    where: { provider: module.name as Provider, externalAccountId: account.externalAccountId, orgId, status: "needs_reauth" },
  });
  if (stale) {
    const current = (typeof stale.settings === "object" && stale.settings !== null ? stale.settings : {}) as Record<string, unknown>;
    const state = (typeof current["provider"] === "object" && current["provider"] !== null ? current["provider"] : {}) as Record<string, unknown>;
    const columns = settingsToColumns(settings, current);
    const integration = await prisma.crmIntegration.update({
      where: { id: stale.id },
      data: {
        ...tokens,
        status: "active",
        ...columns,
        settings: { ...(columns.settings as Record<string, unknown>), provider: { ...state, ...account.state } } as object,
      },
      select: integrationSelect,
    });
    await deps.clearRefusedToken(integration.id);
    log.info({ integrationId: integration.id, orgId, provider: module.name, accountId: account.externalAccountId }, "CRM integration re-authorised");
    return { integration, reauthorised: true };
  }
  const columns = settingsToColumns(settings);
  const integration = await prisma.crmIntegration
    .create({
      data: {
        orgId,
        provider: module.name as Provider,
        externalAccountId: account.externalAccountId,
        ...(account.tier !== undefined && { tier: account.tier }),
        ...tokens,
        ...columns,
        settings: { ...(columns.settings as Record<string, unknown>), provider: account.state } as object,
      },
      select: integrationSelect,
    })
    .catch((err: unknown) => {
      throw isUniqueViolation(err) ? accountConnectedError(module, account.externalAccountId) : err;
    });
  log.info({ integrationId: integration.id, orgId, provider: module.name, accountId: account.externalAccountId, authType: account.authType }, "CRM integration connected");
  return { integration, reauthorised: false };
}

/**
 * When the stored access token is due for a refresh: the CRM's expiry, or — for an OAuth token the CRM gave no expiry
 * (Salesforce) — a scheduled refresh; the token is also refreshed at once if the CRM refuses it. Private-app tokens
 * never expire here.
 */
function tokenExpiry(account: ConnectedAccount): Date | null {
  if (account.tokens.expiresAt !== undefined) return new Date(account.tokens.expiresAt);
  return account.authType === "oauth" ? new Date(Date.now() + UNDATED_TOKEN_REFRESH_MS) : null;
}
