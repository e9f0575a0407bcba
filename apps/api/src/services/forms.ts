import type { PrismaClient } from "@leadsync/db";
import { NotFoundError } from "../errors.js";

/** Platform leads without a formId land in this form of their organisation. */
export const DEFAULT_FORM_NAME = "Website";

/** The form a new platform lead belongs to: the org's own `formId`, or its default form (created on first use). */
export async function resolveLeadForm(prisma: PrismaClient, orgId: string, formId: string | undefined): Promise<string> {
  if (formId !== undefined) {
    // Another org's form is reported exactly like a missing one: ids of other orgs are not confirmed.
    const form = await prisma.form.findFirst({ where: { id: formId, orgId }, select: { id: true } });
    if (!form) throw new NotFoundError("Form");
    return form.id;
  }
  const form = await prisma.form.upsert({
    where: { orgId_name: { orgId, name: DEFAULT_FORM_NAME } },
    create: { orgId, name: DEFAULT_FORM_NAME },
    update: {},
    select: { id: true },
  });
  return form.id;
}
