import { z } from "zod";
import { leadJson } from "./leads/lead-json.js";
import { integrationJson } from "./routes/crm-integration/integration-json.js";
import { errorResponse } from "./schemas.js";

/**
 * The shared schemas of the OpenAPI document (`components.schemas`): routes that use them reference them by `$ref`.
 * A registry of the API's own, not zod's global one, so each app's document depends on nothing global.
 */
export const apiSchemaRegistry = z.registry<{ id: string }>();
apiSchemaRegistry.add(leadJson, { id: "Lead" });
apiSchemaRegistry.add(integrationJson, { id: "Integration" });
apiSchemaRegistry.add(errorResponse, { id: "ErrorEnvelope" });

/**
 * A summary for a route that its plugin registers without one: the receiver's webhook routes (one per CRM), which
 * apps/dev mounts beside the API. Undefined for anything else: those routes must describe themselves.
 */
export function fallbackSummary(method: string, url: string): string | undefined {
  const webhook = /^\/api\/v1\/webhooks\/([^/]+)$/.exec(url);
  if (!webhook) return undefined;
  const provider = webhook[1]!;
  if (method === "POST") return `${provider} webhook deliveries: signature checked, the batch queued before the 2xx answer; no JWT`;
  if (method === "GET") return `Answers 200, so ${provider} (or you) can check that the webhook URL is reachable`;
  return undefined;
}
