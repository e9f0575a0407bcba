import type { Prisma } from "@leadsync/db";

/**
 * Contact lifecycle on our side (issue 6): deletions unlink (and may archive), merges move the link to the
 * surviving contact, privacy deletions erase the lead's personal data. A deleted or merged-away contact leaves an
 * `unlinked_contacts` row (ids only) so that a privacy deletion arriving after the deletion still finds its lead.
 */

export interface ContactMerge {
  survivorId: string;
  mergedIds: readonly string[];
}

/** Moves each merge's link to the surviving contact (no new lead); the merged-away contacts are unlinked. */
export async function relinkMergedContacts(tx: Prisma.TransactionClient, integrationId: string, merges: readonly ContactMerge[]): Promise<void> {
  for (const { survivorId, mergedIds } of merges) {
    const others = mergedIds.filter((id) => id !== survivorId);
    if (others.length === 0) continue;
    const links = await tx.leadCrmLink.findMany({ where: { integrationId, externalId: { in: [survivorId, ...others] } }, orderBy: { createdAt: "asc" } });
    if (links.length === 0) continue;
    const survivorLink = links.find((l) => l.externalId === survivorId);
    const moved = survivorLink ? undefined : links[0];
    if (moved) await tx.leadCrmLink.update({ where: { id: moved.id }, data: { externalId: survivorId } });
    const dropped = links.filter((l) => l.externalId !== survivorId && l.id !== moved?.id);
    await rememberUnlinked(tx, integrationId, [...(moved ? [{ externalId: moved.externalId, leadId: moved.leadId }] : []), ...dropped]);
    await tx.leadCrmLink.deleteMany({ where: { id: { in: dropped.map((l) => l.id) } } });
  }
}

/** Records contacts that were unlinked from their lead (deleted or merged away). */
export async function rememberUnlinked(
  tx: Prisma.TransactionClient,
  integrationId: string,
  contacts: readonly { externalId: string; leadId: string }[],
): Promise<void> {
  if (contacts.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO unlinked_contacts (id, integration_id, external_id, lead_id, unlinked_at)
    SELECT gen_random_uuid(), ${integrationId}::uuid, v.external_id, v.lead_id, now()
    FROM unnest(${contacts.map((c) => c.externalId)}::text[], ${contacts.map((c) => c.leadId)}::uuid[]) AS v(external_id, lead_id)
    ON CONFLICT (integration_id, external_id) DO UPDATE SET lead_id = EXCLUDED.lead_id, unlinked_at = EXCLUDED.unlinked_at`;
}

/** A contact linked again (restored, or re-created): its lead is no longer archived or remembered as unlinked. */
export async function forgetUnlinked(tx: Prisma.TransactionClient, integrationId: string, links: readonly { externalId: string; leadId: string }[]): Promise<void> {
  if (links.length === 0) return;
  // Raw SQL: every batch that links contacts runs these (no query-compiler work).
  await tx.$executeRaw`
    DELETE FROM unlinked_contacts WHERE integration_id = ${integrationId}::uuid AND external_id = ANY(${links.map((l) => l.externalId)}::text[])`;
  await tx.$executeRaw`
    UPDATE leads SET archived_at = NULL, updated_at = now() WHERE id = ANY(${links.map((l) => l.leadId)}::uuid[]) AND archived_at IS NOT NULL`;
}

export async function archiveLeads(tx: Prisma.TransactionClient, leadIds: readonly string[]): Promise<void> {
  if (leadIds.length === 0) return;
  await tx.lead.updateMany({ where: { id: { in: [...leadIds] }, archivedAt: null }, data: { archivedAt: new Date() } });
}

/** The placeholder email of an erased lead: unique per lead, identifies no one. */
export function erasedEmail(leadId: string): string {
  return `erased-${leadId}@erased.invalid`;
}

/**
 * Erases the personal data of the leads of privacy-deleted contacts (linked, or unlinked by an earlier deletion):
 * email replaced by a placeholder, the other fields nulled, the link and its memory removed, one audit row each.
 * Returns contact id → erased lead id. A redelivery finds nothing left to erase.
 */
export async function eraseForPrivacy(tx: Prisma.TransactionClient, integrationId: string, contactIds: readonly string[]): Promise<Map<string, string>> {
  const erased = new Map<string, string>();
  if (contactIds.length === 0) return erased;
  const where = { integrationId, externalId: { in: [...contactIds] } };
  const links = await tx.leadCrmLink.findMany({ where, select: { externalId: true, leadId: true } });
  const remembered = await tx.unlinkedContact.findMany({ where, select: { externalId: true, leadId: true } });
  for (const { externalId, leadId } of [...remembered, ...links]) erased.set(externalId, leadId);
  if (erased.size === 0) return erased;

  for (const leadId of new Set(erased.values())) {
    await tx.lead.update({
      where: { id: leadId },
      data: { email: erasedEmail(leadId), firstName: null, lastName: null, phone: null, company: null, jobTitle: null, fieldVersions: {} },
    });
  }
  await tx.leadCrmLink.deleteMany({ where });
  await tx.unlinkedContact.deleteMany({ where });
  await tx.privacyErasure.createMany({ data: [...erased].map(([externalId, leadId]) => ({ integrationId, leadId, externalId })) });
  return erased;
}
