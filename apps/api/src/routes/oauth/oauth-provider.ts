import type { Config } from "@leadsync/config";
import type { CrmProviderModule, OAuthSupport } from "@leadsync/core";
import { findProviderModule, providerNames } from "@leadsync/providers";
import { AppError, BadRequestError } from "../../errors.js";

/** The registry's provider with OAuth support, or the caller's error (404 unknown, 400 no OAuth). */
export function oauthProvider(name: string): { module: CrmProviderModule; oauth: OAuthSupport } {
  const module = findProviderModule(name);
  if (!module) throw new AppError(404, "unknown_provider", `Unknown CRM provider "${name}" (known: ${providerNames().join(", ")})`);
  if (!module.oauth) throw new BadRequestError("oauth_not_supported", `${module.displayName} has no OAuth connect flow: connect it with POST /api/v1/crm-integration`);
  return { module, oauth: module.oauth };
}

/** The environment variable that holds a provider's OAuth app setting (`HUBSPOT_CLIENT_ID`, `ZOHO_CLIENT_SECRET`…). */
export function oauthEnvVar(provider: string, setting: "CLIENT_ID" | "CLIENT_SECRET"): string {
  return `${provider.toUpperCase()}_${setting}`;
}

/** Where the CRM sends the browser back: on the public base URL (API_URL), one path per provider. */
export function oauthRedirectUri(config: Pick<Config, "apiUrl">, provider: string): string {
  return `${config.apiUrl}/api/v1/oauth/${encodeURIComponent(provider)}/callback`;
}
