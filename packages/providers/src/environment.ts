import { createHmac } from "node:crypto";
import type { Config, ProviderSettings } from "@leadsync/config";
import type { ProviderEnvironment } from "@leadsync/core";

/** What a provider package gets from the configuration (its URLs, OAuth app, the marker, the call timeout). */
export function providerEnvironment(config: Config, provider: string): ProviderEnvironment {
  const settings = provider === "hubspot" ? hubspotSettings(config) : config.providers[provider];
  const env: ProviderEnvironment = { marker: config.leadSourceMarker, requestTimeoutMs: config.hubspot.requestTimeoutMs };
  for (const key of ["apiBase", "clientId", "clientSecret", "appId", "developerApiKey"] as const) {
    const value = settings?.[key];
    if (value !== undefined) env[key] = value;
  }
  if (settings?.oauthBase !== undefined) env.oauthBase = settings.oauthBase;
  return env;
}

/** HubSpot's settings keep their own block in the configuration (they predate the others). */
function hubspotSettings(config: Config): ProviderSettings {
  const { apiBase, clientId, clientSecret, appId, developerApiKey } = config.hubspot;
  return { apiBase, clientId, clientSecret, appId, developerApiKey };
}

/**
 * The secret one integration's pushed feed authenticates with (Zoho's channel token, Pipedrive's Basic password):
 * derived from the server's key, so the receiver checks it with no lookup. 40 URL-safe characters (Zoho allows 50).
 */
export function webhookSecretFor(config: Pick<Config, "encryptionKey">, integrationId: string): string {
  return createHmac("sha256", config.encryptionKey).update(`leadsync-webhook-secret\u001f${integrationId}`).digest("base64url").slice(0, 40);
}
