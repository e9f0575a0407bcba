import type { Config, Logger } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import { providerIntegrationOf, webhookSecretFor } from "@leadsync/providers";
import type { Integration, IntegrationDirectory } from "../integrations.js";

/**
 * What keeps an integration connected while nothing happens on it: an expiring feed (Zoho notification channels
 * live at most a week) is renewed well before it lapses — re-created if the CRM already forgot it, with a
 * reconciliation for the gap — and an idle OAuth integration's tokens are refreshed (Pipedrive drops refresh tokens
 * unused for 60 days; Salesforce sends no expiry at all).
 */

export interface MaintainDeps {
  config: Config;
  prisma: PrismaClient;
  directory: IntegrationDirectory;
  logger: Logger;
  queueReconcile(integrationId: string): Promise<void>;
}

export interface MaintainResult {
  tokensRefreshed: boolean;
  feedRenewed: boolean;
  feedRecreated: boolean;
}

/**
 * A feed the CRM dropped before its renewal was due (Zoho garbage-collects a channel it lost, Pipedrive deletes
 * webhooks after 3 days of failed deliveries) is checked — renewed, so re-created if gone — at least every this many
 * ticks: an hour at the default 10-minute tick, for one call (a Zoho credit, 20 Pipedrive tokens) each time.
 */
export const FEED_CHECK_EVERY_TICKS = 6;

export async function maintainIntegration(deps: MaintainDeps, integration: Integration): Promise<MaintainResult> {
  const { config, prisma, directory } = deps;
  const module = directory.moduleOf(integration);
  const context = directory.clients.contextFor(integration);
  const log = deps.logger.child({ integrationId: integration.id, provider: module.name });
  const result: MaintainResult = { tokensRefreshed: false, feedRenewed: false, feedRecreated: false };

  // An access token past its expiry means nobody used the integration lately: refreshing it keeps the refresh token alive.
  if (integration.authType === "oauth" && (integration.accessTokenExpiresAt?.getTime() ?? 0) <= Date.now()) {
    await context.getAccessToken();
    result.tokensRefreshed = true;
    log.info({}, "Refreshed the OAuth tokens of an idle integration");
  }

  const state = providerIntegrationOf(integration).state;
  const renewAt = typeof state["feedRenewAt"] === "number" ? state["feedRenewAt"] : undefined;
  // Renewed when the next two ticks could come too late, or when it was last checked too long ago.
  const dueBy = Date.now() + 2 * config.feedMaintenanceIntervalMs;
  const checkedAt = typeof state["feedCheckedAt"] === "number" ? state["feedCheckedAt"] : 0;
  const checkDue = checkedAt + FEED_CHECK_EVERY_TICKS * config.feedMaintenanceIntervalMs <= Date.now();
  if (module.renewChangeFeed && integration.webhooksEnabled && renewAt !== undefined && (renewAt <= dueBy || checkDue)) {
    const feed = await module.renewChangeFeed(context, { webhookUrl: integration.webhookUrl, webhookSecret: webhookSecretFor(config, integration.id) });
    const settings = (typeof integration.settings === "object" && integration.settings !== null ? integration.settings : {}) as Record<string, unknown>;
    await prisma.crmIntegration.update({
      where: { id: integration.id },
      data: {
        webhookSubscriptions: feed.subscriptions as object[],
        settings: { ...settings, provider: { ...state, ...feed.state, feedRenewAt: feed.renewAt ?? null, feedCheckedAt: Date.now() } } as object,
      },
    });
    result.feedRenewed = true;
    if (feed.recreated) {
      result.feedRecreated = true;
      log.warn({}, `${module.displayName} had dropped the change feed; it was created again and the gap is reconciled`);
      await deps.queueReconcile(integration.id);
    } else {
      log.info({ renewAt: feed.renewAt }, `${module.displayName} change feed renewed`);
    }
  }
  return result;
}
