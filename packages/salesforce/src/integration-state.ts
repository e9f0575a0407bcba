import type { ClientContext } from "@leadsync/core";
import { DEFAULT_MARKER_FIELD } from "./constants.js";

/** The integration's kept state, read defensively (it is JSON from the database). */
export function stateOf(context: Pick<ClientContext, "integration">): { instanceUrl: string; userId: string | undefined; markerField: string } {
  const state = context.integration.state;
  const instanceUrl = state["instanceUrl"];
  if (typeof instanceUrl !== "string" || instanceUrl === "") throw new Error(`Salesforce integration ${context.integration.id} has no instanceUrl in its state`);
  return {
    instanceUrl,
    userId: typeof state["userId"] === "string" ? state["userId"] : undefined,
    markerField: typeof state["markerField"] === "string" && state["markerField"] !== "" ? state["markerField"] : DEFAULT_MARKER_FIELD,
  };
}
