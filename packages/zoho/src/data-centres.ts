/**
 * Zoho's data centres: accounts server → API domain (providers-facts §3.1). The OAuth callback's `accounts-server`
 * comes from the browser's query string, so only these hosts (or the configured override) are trusted with a code.
 */
export const DATA_CENTRES: Readonly<Record<string, { accountsUrl: string; apiDomain: string }>> = {
  us: { accountsUrl: "https://accounts.zoho.com", apiDomain: "https://www.zohoapis.com" },
  eu: { accountsUrl: "https://accounts.zoho.eu", apiDomain: "https://www.zohoapis.eu" },
  in: { accountsUrl: "https://accounts.zoho.in", apiDomain: "https://www.zohoapis.in" },
  au: { accountsUrl: "https://accounts.zoho.com.au", apiDomain: "https://www.zohoapis.com.au" },
  cn: { accountsUrl: "https://accounts.zoho.com.cn", apiDomain: "https://www.zohoapis.com.cn" },
  jp: { accountsUrl: "https://accounts.zoho.jp", apiDomain: "https://www.zohoapis.jp" },
  ca: { accountsUrl: "https://accounts.zohocloud.ca", apiDomain: "https://www.zohoapis.ca" },
  sa: { accountsUrl: "https://accounts.zoho.sa", apiDomain: "https://www.zohoapis.sa" },
};

export const DEFAULT_ACCOUNTS_URL = DATA_CENTRES["us"]?.accountsUrl ?? "https://accounts.zoho.com";

/**
 * The accounts server to use for a callback (its `accounts-server`, else its `location`'s data centre), or undefined
 * when it is not one we trust.
 */
export function trustedAccountsServer(candidate: string | undefined, override: string | undefined, location?: string): string | undefined {
  const trusted = new Set([...Object.values(DATA_CENTRES).map((dc) => dc.accountsUrl), ...(override ? [origin(override)] : [])]);
  if (candidate === undefined) {
    if (override) return origin(override);
    return location === undefined ? DEFAULT_ACCOUNTS_URL : DATA_CENTRES[location.toLowerCase()]?.accountsUrl;
  }
  const normalized = origin(candidate);
  return normalized !== undefined && trusted.has(normalized) ? normalized : undefined;
}

function origin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
