import type { CrmProviderModule } from "@leadsync/core";
import { hubspotProvider } from "@leadsync/hubspot";
import { pipedriveProvider } from "@leadsync/pipedrive";
import { zohoProvider } from "@leadsync/zoho";

/**
 * The one list of the CRMs LeadSync syncs with. The receiver, the API and the workers look a provider up here by the
 * integration's `provider` column (or the webhook path) and call only its CrmProviderModule.
 */
const MODULES: readonly CrmProviderModule<never>[] = [hubspotProvider, zohoProvider, pipedriveProvider].map((module) => module as CrmProviderModule<never>);

const BY_NAME = new Map(MODULES.map((module) => [module.name, module as CrmProviderModule]));

export class UnknownProviderError extends Error {
  override readonly name = "UnknownProviderError";
  constructor(readonly provider: string) {
    super(`Unknown CRM provider "${provider}" (known: ${[...BY_NAME.keys()].join(", ")})`);
  }
}

export function providerModule(name: string): CrmProviderModule {
  const module = BY_NAME.get(name);
  if (!module) throw new UnknownProviderError(name);
  return module;
}

export function findProviderModule(name: string): CrmProviderModule | undefined {
  return BY_NAME.get(name);
}

/** Every provider's name, in registry order. */
export function providerNames(): string[] {
  return [...BY_NAME.keys()];
}

/** The providers whose change feed is pushed to us (a webhook route each). */
export function pushedFeedProviders(): CrmProviderModule[] {
  return [...BY_NAME.values()].filter((module) => module.webhook !== undefined);
}

/** The providers whose change feed the workers subscribe to. */
export function pulledFeedProviders(): CrmProviderModule[] {
  return [...BY_NAME.values()].filter((module) => module.pulledFeed !== undefined);
}
