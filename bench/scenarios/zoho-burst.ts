import { runInboundProviderBurst } from "../lib/inbound-provider-burst.js";
import type { EmulatorStats } from "../lib/provider-world.js";
import type { Figure, Scenario } from "../lib/scenario.js";
import { round } from "../lib/stats.js";
import { zohoKit } from "../../test/providers/kits/zoho.js";

/**
 * Zoho CRM: 5,000 Leads created in the emulator (a person's import, 100 per admin request) → notification callbacks
 * (record ids only) to the receiver → the worker reads the records in batches → leads. Zoho meters credits per
 * rolling 24 h (a read call costs 1 whatever it returns), so the figure to watch is credits per record, beside one
 * call (one credit) per record.
 */

const FULL = 5_000;
const QUICK = 100;
/** Zoho's insert API and its UI import take at most 100 records per call. */
const BATCH = 100;

interface ZohoStats extends EmulatorStats {
  notifications: { delivered: number; failed: number; pending: number; dropped: number };
  credits: { used: number; limit: number };
  concurrency: { limit: number; maxInFlight: number };
}

export const zohoBurst: Scenario = {
  id: "zoho-burst",
  title: "Zoho burst: Leads created in the CRM → leads",
  run: (context) =>
    runInboundProviderBurst<ZohoStats>(
      {
        id: "zoho-burst",
        title: "Zoho burst: Leads created in the CRM → leads",
        kit: zohoKit,
        records: context.quick ? QUICK : FULL,
        batchSize: BATCH,
        extraFigures: (before, after, records): Figure[] => {
          const credits = after.credits.used - before.credits.used;
          return [
            {
              name: "credits spent",
              value: credits,
              unit: "credits",
              baseline: { name: "one call (1 credit) per record", value: records, unit: "credits" },
              ratio: round(records / Math.max(1, credits), 1),
            },
            {
              name: "credits per record",
              value: round(credits / records, 4),
              unit: "credits",
              baseline: { name: "one call per record", value: 1, unit: "credits" },
              ratio: round(records / Math.max(1, credits), 1),
            },
            {
              name: "most calls in flight (emulator)",
              value: after.concurrency.maxInFlight,
              unit: "calls",
              baseline: { name: "edition's concurrency limit", value: after.concurrency.limit, unit: "calls" },
              ratio: round(after.concurrency.maxInFlight / after.concurrency.limit, 2),
              target: "≤ limit",
              pass: after.concurrency.maxInFlight <= after.concurrency.limit,
            },
          ];
        },
        extraNotes: (before, after, records) => [
          `Callbacks: ${after.notifications.delivered - before.notifications.delivered} record ids notified, ${after.notifications.failed - before.notifications.failed} failed, ${after.notifications.dropped - before.notifications.dropped} dropped, ${after.notifications.pending} pending at the end. Credits: ${after.credits.used - before.credits.used} of the account's ${after.credits.limit} per rolling 24 h (edition default of the emulator's new account); ${records} records at one credit each would be ${round((100 * records) / after.credits.limit, 1)}% of that day.`,
        ],
      },
      context,
    ),
};
