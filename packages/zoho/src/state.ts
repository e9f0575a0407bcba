import { z } from "zod";
import { ZOHO_EDITIONS } from "./budget.js";

/** What an integration keeps in `settings.provider` (never secrets). */
export const zohoState = z.object({
  /** every CRM call goes here: the token reply's `api_domain` */
  apiDomain: z.string().url(),
  /** the accounts server of the org's data centre (refreshes go here) */
  accountsUrl: z.string().url(),
  /** the integration user (`Modified_By` of our writes) */
  userId: z.string(),
  /** the marker field's real api_name, read back from settings/fields */
  markerField: z.string(),
  edition: z.enum(ZOHO_EDITIONS).default("standard"),
  users: z.number().int().min(0).default(1),
  /** the notification channel (enableChangeFeed / renewChangeFeed) */
  channelId: z.string().optional(),
  channelExpiresAt: z.number().optional(),
  /** override of the channel life (ms, ≤ 1 week) */
  channelLifeMs: z.number().int().positive().optional(),
});
export type ZohoState = z.infer<typeof zohoState>;

export function readState(state: Readonly<Record<string, unknown>>): ZohoState {
  const parsed = zohoState.safeParse(state);
  if (!parsed.success) throw new Error(`Zoho integration state is incomplete: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  return parsed.data;
}
