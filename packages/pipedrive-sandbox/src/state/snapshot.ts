import { z } from "zod";
import { SANDBOX_PLANS } from "../options.js";
import type { Lead, Organization, User, Webhook } from "./company.js";
import type { PersonField } from "./person-fields.js";
import type { PersonRecord } from "./persons.js";

/**
 * What the Pipedrive emulator keeps across restarts when started with a `snapshotPath` (emulator-kit's snapshot
 * file): the OAuth app, every company (users and their API tokens, persons, person fields, organizations, leads,
 * webhooks with their delivery health, plan and status), OAuth access and refresh tokens, the clock offset and the id
 * counters. Not kept: rate-limit windows, call counters, faults, authorization codes (5 minutes), and webhook events
 * still waiting for delivery (LeadSync's reconciliation catches up on those).
 *
 * Records are checked by their ids and otherwise kept as written (the emulator wrote them itself).
 */
export const PIPEDRIVE_SNAPSHOT = { emulator: "pipedrive-sandbox", version: 1 } as const;

/** An object with a numeric (or uuid) id; its other keys as the emulator wrote them. */
const stored = <T>(id: z.ZodType) => z.looseObject({ id }).transform((value) => value as unknown as T);
const grant = { companyId: z.number().int(), userId: z.number().int(), scopes: z.array(z.string()) };

export const pipedriveSnapshotSchema = z.object({
  app: z.object({ clientId: z.string(), clientSecret: z.string() }),
  counters: z.object({ clockOffsetMs: z.number(), lastCompanyId: z.number().int(), lastUserId: z.number().int(), lastObjectId: z.number().int(), lastWebhookId: z.number().int() }),
  companies: z.array(
    z.object({
      id: z.number().int(),
      plan: z.enum(SANDBOX_PLANS),
      seats: z.number().int(),
      status: z.enum(["open", "closed"]),
      users: z.array(stored<User>(z.number().int())),
      persons: z.array(stored<PersonRecord>(z.number().int())),
      personFields: z.object({ fields: z.array(stored<PersonField>(z.number().int())), lastId: z.number().int() }),
      organizations: z.array(stored<Organization>(z.number().int())),
      leads: z.array(stored<Lead>(z.string())),
      webhooks: z.array(stored<Webhook>(z.number().int())),
    }),
  ),
  oauth: z.object({
    access: z.array(z.tuple([z.string(), z.object({ ...grant, expiresAt: z.number() })])),
    refresh: z.array(z.tuple([z.string(), z.object({ ...grant, lastUsedAt: z.number() })])),
  }),
});
export type PipedriveSnapshot = z.infer<typeof pipedriveSnapshotSchema>;
