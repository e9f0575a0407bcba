import type { ProviderEnvironment } from "@leadsync/core";

/** What `connect` keeps in the integration's `settings.provider` (never secrets). */
export interface PipedriveState {
  /** the company's base URL: OAuth's `api_domain`, `https://<companyDomain>.pipedrive.com`, or the emulator */
  apiDomain?: string;
  companyDomain?: string;
  /** our user's id (the token's user): webhooks with `change_source: "api"` by this user are our echoes */
  userId?: string;
  /** the 40-character key of the "Lead Source System" person field */
  markerField?: string;
  /** the company's seats (active users at connect): the daily budget's multiplier */
  seats?: number;
  /** ids of the webhooks `enableChangeFeed` created or reused */
  webhookIds?: string[];
}

export function stateOf(state: Readonly<Record<string, unknown>>): PipedriveState {
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const out: PipedriveState = {};
  const apiDomain = str(state["apiDomain"]);
  const companyDomain = str(state["companyDomain"]);
  const userId = str(state["userId"]);
  const markerField = str(state["markerField"]);
  if (apiDomain) out.apiDomain = apiDomain;
  if (companyDomain) out.companyDomain = companyDomain;
  if (userId) out.userId = userId;
  if (markerField) out.markerField = markerField;
  if (typeof state["seats"] === "number") out.seats = state["seats"];
  if (Array.isArray(state["webhookIds"])) out.webhookIds = state["webhookIds"].filter((v): v is string => typeof v === "string");
  return out;
}

export const DEFAULT_API_DOMAIN = "https://api.pipedrive.com";
export const DEFAULT_OAUTH_HOST = "https://oauth.pipedrive.com";

/** The environment's override (the emulator in development) wins over the stored domain, which wins over the default. */
export function apiDomainOf(state: PipedriveState, env: Pick<ProviderEnvironment, "apiBase">): string {
  return env.apiBase ?? state.apiDomain ?? (state.companyDomain ? companyUrl(state.companyDomain) : DEFAULT_API_DOMAIN);
}

/** `acme` or `acme.pipedrive.com` → `https://acme.pipedrive.com`. */
export function companyUrl(companyDomain: string): string {
  const host = companyDomain.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  return `https://${host.includes(".") ? host : `${host}.pipedrive.com`}`;
}
