import type { PrismaClient } from "@leadsync/db";
import { NotFoundError } from "../errors.js";
import { integrationSelect } from "../routes/crm-integration/integration-json.js";

/** The org's integration, or 404 — another org's integration is indistinguishable from a missing one. */
export async function findOrgIntegration(prisma: PrismaClient, orgId: string, integrationId: string) {
  const integration = await prisma.crmIntegration.findFirst({
    where: { id: integrationId, orgId },
    select: { ...integrationSelect, webhookSubscriptions: true, webhookTotalReceived: true, webhookLastReceivedAt: true },
  });
  if (!integration) throw new NotFoundError("Integration");
  return integration;
}
