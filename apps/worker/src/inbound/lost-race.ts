import type { Logger } from "@leadsync/config";
import { postgresFailure } from "@leadsync/db";

/**
 * Why a transaction lost to a concurrent one, from the Postgres error Prisma's driver adapter passes on: another
 * writer created a lead with an email this transaction was creating (23505 on the org/email index), or Postgres broke
 * a deadlock by aborting this side (40P01). Null for any other error.
 */
export function lostRaceReason(error: unknown): "email_taken" | "deadlock" | null {
  const failure = postgresFailure(error);
  if (failure?.code === "23505" && failure.index === "leads_org_id_email_key") return "email_taken";
  if (failure?.code === "40P01") return "deadlock";
  return null;
}

/** A lost race resolves on the next try; a transaction losing this many times fails as any other error does. */
const MAX_APPLY_ATTEMPTS = 3;

/**
 * Runs `apply` (one transaction) again at once when it lost a race to a concurrent writer: the next try sees the
 * winner's rows and links to them. Webhook batches, backfills and reconciliations all meet the same leads.
 */
export async function retryLostRaces<T>(apply: () => Promise<T>, log: Logger): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apply();
    } catch (error) {
      const race = lostRaceReason(error);
      if (!race || attempt >= MAX_APPLY_ATTEMPTS) throw error;
      log.info({ attempt, race }, "Batch lost a race to a concurrent write - applying it again");
    }
  }
}
