import type { Lead } from "@leadsync/db";
import { z } from "zod";

/** A lead as the API shows it (CONTRACT.md): an allow-list, so internal columns (orgId, fieldVersions) never leak. */
export const leadJson = z.object({
  id: z.string(),
  email: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  phone: z.string().nullable(),
  company: z.string().nullable(),
  jobTitle: z.string().nullable(),
  source: z.string(),
  formId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  crm: z.array(z.object({ provider: z.string(), integrationId: z.string(), externalId: z.string() })),
});
export type LeadJson = z.infer<typeof leadJson>;

/** The Prisma include that loads what `toLeadJson` needs. */
export const leadInclude = { links: { select: { provider: true, integrationId: true, externalId: true } } } as const;

/** A lead's own columns that `toLeadJson` shows. */
export type LeadColumns = Pick<Lead, "id" | "email" | "firstName" | "lastName" | "phone" | "company" | "jobTitle" | "source" | "formId" | "createdAt" | "updatedAt">;

type LeadRow = LeadColumns & { links: { provider: string; integrationId: string; externalId: string }[] };

export function toLeadJson(lead: LeadRow): LeadJson {
  return {
    id: lead.id,
    email: lead.email,
    firstName: lead.firstName,
    lastName: lead.lastName,
    phone: lead.phone,
    company: lead.company,
    jobTitle: lead.jobTitle,
    source: lead.source,
    formId: lead.formId,
    createdAt: lead.createdAt.toISOString(),
    updatedAt: lead.updatedAt.toISOString(),
    crm: lead.links.map((l) => ({ provider: l.provider, integrationId: l.integrationId, externalId: l.externalId })),
  };
}

/** Editable text fields: trimmed, bounded; null clears a field on PATCH. */
const text = (max: number) => z.string().trim().max(max);
export const leadWritableFields = {
  firstName: text(200).nullable().optional(),
  lastName: text(200).nullable().optional(),
  phone: text(50).nullable().optional(),
  company: text(300).nullable().optional(),
  jobTitle: text(300).nullable().optional(),
};

/** Surrounding blanks are forgiven (pasted addresses); the address itself must be valid. */
export const leadEmail = z.string().trim().pipe(z.email().max(320));

export const leadIdParams = z.strictObject({ id: z.uuid() });
