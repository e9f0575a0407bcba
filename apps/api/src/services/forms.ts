import type { PrismaClient } from "@leadsync/db";
import { NotFoundError } from "../errors.js";

/** Platform leads without a formId land in this form of their organisation. */
export const DEFAULT_FORM_NAME = "Website";

/** Orgs whose default form id is remembered per client; past this the memory starts over (ids are cheap to re-read). */
const MAX_CACHED_ORGS = 10_000;

/**
 * orgId → its default form's id, per Prisma client (one per database: tests run several apps in one process).
 * Forms are never deleted or renamed, so a remembered id stays right; `forgetDefaultForm` drops one anyway
 * when a lead insert refuses it.
 */
const defaultFormIds = new WeakMap<PrismaClient, Map<string, string>>();

function cacheFor(prisma: PrismaClient): Map<string, string> {
  let cache = defaultFormIds.get(prisma);
  if (!cache) {
    cache = new Map();
    defaultFormIds.set(prisma, cache);
  }
  return cache;
}

/** The form a new platform lead belongs to: the org's own `formId`, or its default form (created on first use). */
export async function resolveLeadForm(prisma: PrismaClient, orgId: string, formId: string | undefined): Promise<string> {
  if (formId !== undefined) {
    // Another org's form is reported exactly like a missing one: ids of other orgs are not confirmed.
    const form = await prisma.form.findFirst({ where: { id: formId, orgId }, select: { id: true } });
    if (!form) throw new NotFoundError("Form");
    return form.id;
  }
  const cache = cacheFor(prisma);
  const cached = cache.get(orgId);
  if (cached !== undefined) return cached;
  const id = await findOrCreateDefaultForm(prisma, orgId);
  if (cache.size >= MAX_CACHED_ORGS) cache.clear();
  cache.set(orgId, id);
  return id;
}

/** Drops a remembered default form id (e.g. after an insert refused it as a foreign key). */
export function forgetDefaultForm(prisma: PrismaClient, orgId: string): void {
  defaultFormIds.get(prisma)?.delete(orgId);
}

/**
 * Concurrent first leads of an org all get here: an upsert is a read then an insert, so the losers of that race
 * hit the unique (orgId, name). INSERT … ON CONFLICT DO NOTHING (createMany with skipDuplicates) cannot fail on
 * it; whoever inserted, the row is there to read afterwards.
 */
async function findOrCreateDefaultForm(prisma: PrismaClient, orgId: string): Promise<string> {
  const where = { orgId_name: { orgId, name: DEFAULT_FORM_NAME } };
  const existing = await prisma.form.findUnique({ where, select: { id: true } });
  if (existing) return existing.id;
  await prisma.form.createMany({ data: [{ orgId, name: DEFAULT_FORM_NAME }], skipDuplicates: true });
  return (await prisma.form.findUniqueOrThrow({ where, select: { id: true } })).id;
}
