import { LEAD_FIELDS, LEAD_SOURCE_PROPERTY, fieldMappingOf } from "@leadsync/core";
import type { DevState } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import { SANDBOX_TIERS, type Sandbox, type SandboxTier } from "@leadsync/hubspot-sandbox";

/**
 * Keeping the demo integration across restarts of `pnpm start`. The sandbox keeps nothing once it stops, so the
 * previous run's portal is recreated from the dev state file (same portal id and token) and its contacts that leads
 * are linked to are put back with their ids, from the leads in Postgres: the integration keeps its id, settings and
 * links, and both directions keep working for those leads. Contacts no lead is linked to are gone with the old
 * sandbox, which the banner says.
 */

export interface DemoRestore {
  integrationId: string;
  portalId: number;
  accessToken: string;
  tier: SandboxTier;
}

/** The previous run's demo integration if the dev state names it and it is still in this database; else why not. */
export async function findRestorableDemo(
  prisma: PrismaClient,
  state: DevState | undefined,
  orgId: string,
): Promise<{ restore: DemoRestore } | { restore?: undefined; why: string }> {
  const hubspot = state?.providers["hubspot"];
  if (!state?.demo || !hubspot) return { why: "no earlier run recorded in the dev state file" };
  const portalId = Number(hubspot["portalId"]);
  const accessToken = hubspot["accessToken"];
  if (!Number.isInteger(portalId) || typeof accessToken !== "string") return { why: "the dev state file names no sandbox portal" };
  const row = await prisma.crmIntegration.findFirst({
    where: { id: state.demo.integrationId, orgId, provider: "hubspot", externalAccountId: String(portalId) },
    select: { id: true, tier: true },
  });
  if (!row) return { why: `integration ${state.demo.integrationId} of the last run is not in this database` };
  const tier = (SANDBOX_TIERS as readonly string[]).includes(row.tier) ? (row.tier as SandboxTier) : "starter";
  return { restore: { integrationId: row.id, portalId, accessToken, tier } };
}

/** Puts the integration's linked contacts back into the (new) sandbox portal with their ids; returns how many. */
export async function restoreLinkedContacts(prisma: PrismaClient, sandbox: Sandbox, restore: DemoRestore, marker: string): Promise<number> {
  const integration = await prisma.crmIntegration.findUniqueOrThrow({ where: { id: restore.integrationId }, select: { settings: true } });
  const mapping = fieldMappingOf(integration);
  const links = await prisma.leadCrmLink.findMany({ where: { integrationId: restore.integrationId }, include: { lead: true } });
  const contacts = links
    .filter((link) => /^\d+$/.test(link.externalId))
    .map((link) => {
      const properties: Record<string, string> = {};
      for (const field of LEAD_FIELDS) {
        const value = link.lead[field];
        if (value !== null && value !== "") properties[mapping[field]] = value;
      }
      // As the outbound push marks the contacts it creates (leads that did not come from HubSpot).
      if (link.lead.source !== "hubspot") properties[LEAD_SOURCE_PROPERTY] = marker;
      return { id: link.externalId, properties };
    });
  sandbox.restoreContacts(restore.portalId, contacts);
  return contacts.length;
}
