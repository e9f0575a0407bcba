import type { Logger } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import type { FastifyInstance } from "fastify";
import { StartupError } from "./preflight.js";

/**
 * The demo integration of one emulated CRM (the HubSpot sandbox or another CRM's emulator), connected the way a
 * customer connects: the emulator's admin route hands out an account and its `connect` body (CONTRACT.md),
 * `POST /api/v1/crm-integration` with that body, then enable-webhooks.
 *
 * The emulators keep their state in a snapshot file, so a restart normally finds the last run's account and its
 * integration: that integration is kept (same row, settings and links) and only its feed is turned on again (the API
 * port may have moved; it is idempotent). When the snapshot was lost (`.leadsync/` deleted, a kill -9 before the
 * first write), the org's integrations of that provider point at accounts the emulator does not have: they could only
 * fail (401s on every reconciliation), so they are retired (removed with their links; the leads stay) before a fresh
 * account is connected.
 */

/** What `ensureDemoIntegration` needs of one emulator. */
export interface DemoTarget {
  provider: string;
  displayName: string;
  /** Where its admin routes answer. */
  url: string;
  /** The account ids the emulator has now. */
  accountIds(): Promise<Set<string>>;
  /** A new account and the body that connects it. */
  newAccount(): Promise<{ accountId: string; connect: Record<string, unknown> }>;
  /** The enable-webhooks body. */
  feedBody: Record<string, unknown>;
}

export interface EmulatorDemo {
  accountId: string;
  integrationId: string;
  /** The last run's integration was kept (its account still exists in the emulator). */
  kept: boolean;
  /** Earlier integrations removed because their account no longer exists in the emulator. */
  retired: number;
}

export async function ensureDemoIntegration(input: {
  app: FastifyInstance;
  prisma: PrismaClient;
  headers: Record<string, string>;
  orgId: string;
  target: DemoTarget;
  /** The last run's demo integration of this provider, from the dev state file. */
  previous: Record<string, unknown> | undefined;
  logger: Logger;
}): Promise<EmulatorDemo> {
  const { app, prisma, headers, orgId, target, previous, logger } = input;
  const live = await target.accountIds();
  const existing = await prisma.crmIntegration.findMany({
    where: { orgId, provider: target.provider as never },
    select: { id: true, externalAccountId: true },
    orderBy: { createdAt: "asc" },
  });
  const stale = existing.filter((row) => !live.has(row.externalAccountId));
  const retired = await retire(prisma, logger, target, stale, "its emulator account no longer exists (the emulator's state was not kept)");

  const usable = existing.filter((row) => live.has(row.externalAccountId));
  const kept = usable.find((row) => row.id === previous?.["integrationId"]) ?? usable[0];
  if (kept) {
    await enableFeed(app, headers, target, kept.id);
    return { accountId: kept.externalAccountId, integrationId: kept.id, kept: true, retired };
  }

  const account = await target.newAccount();
  // An account the emulator has just created cannot be another integration's: any row naming it is a leftover of an
  // emulator that started over (in any org), and would make the connect fail on the (provider, account) key.
  const leftovers = await prisma.crmIntegration.findMany({
    where: { provider: target.provider as never, externalAccountId: account.accountId },
    select: { id: true, externalAccountId: true },
  });
  const leftoverCount = await retire(prisma, logger, target, leftovers, "its account id was handed out again by the restarted emulator");

  const created = await app.inject({ method: "POST", url: "/api/v1/crm-integration", headers, payload: account.connect });
  if (created.statusCode !== 201) throw new StartupError(`Could not connect the ${target.displayName} emulator's account ${account.accountId}: ${describeError(created.body)}`);
  const integrationId = (created.json() as { data: { id: string } }).data.id;
  await enableFeed(app, headers, target, integrationId);
  return { accountId: account.accountId, integrationId, kept: false, retired: retired + leftoverCount };
}

/** Removes integrations that can only fail (their links go with them; the leads stay), with one info line. */
async function retire(prisma: PrismaClient, logger: Logger, target: DemoTarget, rows: readonly { id: string; externalAccountId: string }[], why: string): Promise<number> {
  if (rows.length === 0) return 0;
  await prisma.crmIntegration.deleteMany({ where: { id: { in: rows.map((row) => row.id) } } });
  logger.info(
    { provider: target.provider, integrationIds: rows.map((row) => row.id), accountIds: rows.map((row) => row.externalAccountId) },
    `Retired ${rows.length} earlier ${target.displayName} integration(s): ${why}; their leads stay, unlinked from it`,
  );
  return rows.length;
}

async function enableFeed(app: FastifyInstance, headers: Record<string, string>, target: DemoTarget, integrationId: string): Promise<void> {
  const enabled = await app.inject({ method: "POST", url: `/api/v1/crm-integration/${integrationId}/enable-webhooks`, headers, payload: target.feedBody });
  if (enabled.statusCode !== 200) throw new StartupError(`Could not turn on the ${target.displayName} emulator's change feed: ${describeError(enabled.body)}`);
}

/** An emulator's admin routes as a DemoTarget (`GET`/`POST /__sandbox/accounts`, CONTRACT.md "CRM emulators"). */
export function emulatorTarget(provider: string, displayName: string, url: string): DemoTarget {
  return {
    provider,
    displayName,
    url,
    feedBody: {},
    async accountIds() {
      const accounts = (await adminJson(`${url}/__sandbox/accounts`, displayName, "GET", 200)) as { accountId: string | number }[];
      return new Set(accounts.map((a) => String(a.accountId)));
    },
    async newAccount() {
      const account = (await adminJson(`${url}/__sandbox/accounts`, displayName, "POST", 201)) as { accountId: string | number; connect: Record<string, unknown> };
      return { accountId: String(account.accountId), connect: account.connect };
    },
  };
}

/** The HubSpot sandbox's portals as a DemoTarget (`/__sandbox/portals`); its webhooks go to `webhookUrl`. */
export function hubspotTarget(url: string, webhookUrl: string): DemoTarget {
  return {
    provider: "hubspot",
    displayName: "HubSpot",
    url,
    feedBody: { webhookUrl },
    async accountIds() {
      const portals = (await adminJson(`${url}/__sandbox/portals`, "HubSpot sandbox", "GET", 200)) as { portalId: number }[];
      return new Set(portals.map((p) => String(p.portalId)));
    },
    async newAccount() {
      const portal = (await adminJson(`${url}/__sandbox/portals`, "HubSpot sandbox", "POST", 201, { tier: "starter" })) as { portalId: number; accessToken: string; tier: string };
      const portalId = String(portal.portalId);
      return { accountId: portalId, connect: { provider: "hubspot", accessToken: portal.accessToken, portalId, tier: portal.tier } };
    },
  };
}

async function adminJson(url: string, name: string, method: "GET" | "POST", expected: number, body: unknown = {}): Promise<unknown> {
  const response = await fetch(url, { method, ...(method === "POST" && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }) });
  if (response.status !== expected) throw new StartupError(`The ${name} answered ${method} ${new URL(url).pathname} with ${response.status}: ${await response.text()}`);
  return response.json();
}

export function describeError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? body;
  } catch {
    return body;
  }
}
