import { randomUUID } from "node:crypto";
import type { Lead, PrismaClient } from "@leadsync/db";
import type { LeadColumns } from "./lead-json.js";

/** The columns a platform lead is created with (the rest take their defaults). */
export type NewPlatformLead = Pick<Lead, "orgId" | "formId" | "email" | "firstName" | "lastName" | "phone" | "company" | "jobTitle" | "source"> & {
  fieldVersions: Record<string, number>;
};

/**
 * Inserts a lead and returns the columns the API shows. Raw SQL: every platform form submission comes through here,
 * and Prisma's query planning for `lead.create` cost more CPU than the insert itself (0.62 against 0.39 ms per lead).
 * Errors are Prisma's raw-query errors: `isUniqueViolation` / `isForeignKeyViolation` read them.
 */
export async function insertLead(prisma: PrismaClient, lead: NewPlatformLead): Promise<LeadColumns> {
  const rows = await prisma.$queryRaw<LeadColumns[]>`
    INSERT INTO leads (id, org_id, form_id, email, first_name, last_name, phone, company, job_title, source, field_versions, updated_at)
    VALUES (${randomUUID()}::uuid, ${lead.orgId}, ${lead.formId}::uuid, ${lead.email}, ${lead.firstName}, ${lead.lastName}, ${lead.phone},
            ${lead.company}, ${lead.jobTitle}, ${lead.source}, ${JSON.stringify(lead.fieldVersions)}::jsonb, now())
    RETURNING id::text, email, first_name AS "firstName", last_name AS "lastName", phone, company, job_title AS "jobTitle", source,
              form_id::text AS "formId", created_at AS "createdAt", updated_at AS "updatedAt"`;
  const row = rows[0];
  if (!row) throw new Error("INSERT … RETURNING returned no row");
  return row;
}
