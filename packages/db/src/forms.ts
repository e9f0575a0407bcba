import type { Form, PrismaClient } from "./generated/prisma/client.js";

/** Leads that arrive from a CRM land in this form of their organisation. */
export const CRM_IMPORT_FORM_NAME = "CRM Import";

/**
 * The organisation's "CRM Import" form, created on first use. Safe under concurrency: the insert is
 * `ON CONFLICT DO NOTHING` on (org_id, name), so racing workers all end up with the same row.
 */
export async function ensureCrmImportForm(prisma: PrismaClient, orgId: string): Promise<Form> {
  const existing = await prisma.form.findFirst({ where: { orgId, isCrmImport: true }, orderBy: { createdAt: "asc" } });
  if (existing) return existing;
  await prisma.form.createMany({
    data: [{ orgId, name: CRM_IMPORT_FORM_NAME, isCrmImport: true }],
    skipDuplicates: true,
  });
  return prisma.form.findUniqueOrThrow({ where: { orgId_name: { orgId, name: CRM_IMPORT_FORM_NAME } } });
}
