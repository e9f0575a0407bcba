import { ProviderConnectError, type ClientContext, type EnabledFeed } from "@leadsync/core";
import { LEAD_CHANGE_CHANNEL, LEAD_CHANGE_EVENT } from "./constants.js";
import { SalesforceApiError } from "./errors.js";
import type { SalesforceSession } from "./session.js";

/**
 * Change Data Capture must have Lead selected (Setup → Change Data Capture), or no `LeadChangeEvent` is ever
 * published. The selection is metadata (`PlatformEventChannelMember` on the `ChangeEvents` channel): we read it
 * through the Tooling API and add Lead where the user may; an org (or emulator) that does not expose it is taken
 * at its word and the subscription itself will show whether events arrive.
 */

const SETUP_STEPS =
  'In Salesforce Setup → Integrations → Change Data Capture, move "Lead" to Selected Entities and Save (at most 5 entities without the add-on), then enable the feed again.';

interface ChannelMember {
  SelectedEntity?: string;
}

export async function enableLeadChangeFeed(session: SalesforceSession, context: ClientContext): Promise<EnabledFeed> {
  const selection = await selectedEntities(session);
  let verified = selection !== undefined;
  if (selection !== undefined && !selection.has(LEAD_CHANGE_EVENT.toLowerCase())) {
    try {
      await session.call("CDC entity selection", (conn) =>
        conn.request({
          method: "POST",
          url: "/tooling/sobjects/PlatformEventChannelMember",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ FullName: `ChangeEvents_${LEAD_CHANGE_EVENT}`, Metadata: { eventChannel: "ChangeEvents", selectedEntity: LEAD_CHANGE_EVENT } }),
        }, session.requestOptions()),
      );
      context.logger.info({}, "selected Lead for Salesforce Change Data Capture");
      verified = true;
    } catch (err) {
      // A rate limit, a refused session or a transient failure is not the org's answer to the question.
      if (!(err instanceof SalesforceApiError) || err.retryable) throw err;
      throw new ProviderConnectError("change_feed_not_enabled", `Change Data Capture is off for Lead and LeadSync may not turn it on (${(err as Error).message}). ${SETUP_STEPS}`, 422);
    }
  }
  return {
    subscriptions: [{ id: LEAD_CHANGE_CHANNEL, eventType: LEAD_CHANGE_EVENT, active: true }],
    webhookUrl: null,
    state: { changeFeed: { channel: LEAD_CHANGE_CHANNEL, selectionVerified: verified } },
  };
}

/** The entities selected for CDC (lower-cased event names), or undefined when the org does not let us read them. */
async function selectedEntities(session: SalesforceSession): Promise<Set<string> | undefined> {
  const soql = "SELECT Id, SelectedEntity FROM PlatformEventChannelMember WHERE EventChannel = 'ChangeEvents'";
  try {
    const result = await session.call("CDC selection read", (conn) => conn.request<{ records?: ChannelMember[] }>(`/tooling/query?q=${encodeURIComponent(soql)}`, session.requestOptions()));
    return new Set((result.records ?? []).map((r) => String(r.SelectedEntity ?? "").toLowerCase()));
  } catch (err) {
    if (err instanceof SalesforceApiError && !err.retryable) return undefined;
    throw err;
  }
}
