import { runInboundProviderBurst } from "../lib/inbound-provider-burst.js";
import type { EmulatorStats } from "../lib/provider-world.js";
import type { Figure, Scenario } from "../lib/scenario.js";
import { salesforceKit } from "../../test/providers/kits/salesforce.js";

/**
 * Salesforce: 5,000 Leads created in the emulator (an import by a person: 200 per admin request, each one
 * transaction) → Change Data Capture on the Pub/Sub API → the worker's subscription → leads. The design reads no
 * record for a CDC event that carries its fields, so the calls per record should be near zero, against one
 * REST read per record (the one-call-per-record design).
 */

const FULL = 5_000;
const QUICK = 100;
/** Salesforce's own import batches (the Data Import Wizard and Bulk API commit 200 records per transaction). */
const BATCH = 200;

interface SalesforceStats extends EmulatorStats {
  notifications: { delivered: number; failed: number; pending: number };
  apiUsage?: number;
}

export const salesforceBurst: Scenario = {
  id: "salesforce-burst",
  title: "Salesforce burst: Leads created in the CRM → leads",
  run: (context) =>
    runInboundProviderBurst<SalesforceStats>(
      {
        id: "salesforce-burst",
        title: "Salesforce burst: Leads created in the CRM → leads",
        kit: salesforceKit,
        records: context.quick ? QUICK : FULL,
        batchSize: BATCH,
        extraFigures: (before, after): Figure[] => [
          { name: "CDC events delivered", value: after.notifications.delivered - before.notifications.delivered, unit: "events" },
        ],
        extraNotes: (before, after) => [
          `Pub/Sub: ${after.notifications.delivered - before.notifications.delivered} change events delivered, ${after.notifications.failed - before.notifications.failed} lost to faults, ${after.notifications.pending} pending at the end. Calls are REST calls counted by the emulator (the gRPC subscription is not an API call in Salesforce's daily count).`,
        ],
      },
      context,
    ),
};
