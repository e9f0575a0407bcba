import { loadConfig, type Config, type DevProviderState, type ProviderSettings } from "@leadsync/config";
import { startSandbox as startPipedriveSandbox } from "@leadsync/pipedrive-sandbox";
import { startSalesforceSandbox } from "@leadsync/salesforce-sandbox";
import { startSandbox as startZohoSandbox } from "@leadsync/zoho-sandbox";
import type { SnapshotStatus } from "@leadsync/hubspot-sandbox";
import { StartupError } from "./preflight.js";

/**
 * The CRM emulators besides HubSpot's that `pnpm start` runs in development (CONTRACT.md "CRM emulators"): one per
 * provider whose credentials are unset, each on its `<PROVIDER>_SANDBOX_PORT`, with the provider's configuration
 * pointed at it before the API and workers are built (the config is parsed once).
 *
 * "Credentials set" means the real CRM (or an emulator of the developer's own) is meant, and no emulator runs:
 * the provider's client id is set (SALESFORCE_CLIENT_ID, ZOHO_CLIENT_ID, PIPEDRIVE_CLIENT_ID), or its URL variable
 * differs from the real CRM's default (SALESFORCE_LOGIN_URL, ZOHO_ACCOUNTS_URL, PIPEDRIVE_API_BASE).
 */

export type EmulatedProvider = "salesforce" | "zoho" | "pipedrive";

/** Lead fields of a record created by hand in the emulator (the banner's "try it"). */
export interface PersonFields {
  email: string;
  firstName: string;
  lastName: string;
  company: string;
}

export interface DevEmulatorDef {
  provider: EmulatedProvider;
  displayName: string;
  /** What a CRM record is called there (a Salesforce Lead, a Zoho Leads record, a Pipedrive person). */
  recordName: string;
  portVar: string;
  /** Environment variables that mean "credentials set" (see above); the dev state entry is ignored when one is set. */
  credentialVars: string[];
  /** The ports it listens on: its own, plus a feed's or API domain's (derived, so one variable moves them all). */
  ports(port: number): { port: number; what: string }[];
  /** Starts it; with `snapshotPath` its state is loaded from and saved to that file (kept across restarts). */
  start(config: Config, snapshotPath: string | undefined): Promise<RunningEmulator>;
  /** The admin route's create body for one record (`POST /__sandbox/accounts/:id/records {records:[…]}`). */
  createBody(fields: PersonFields): Record<string, unknown>;
}

export interface RunningEmulator {
  /** Where its admin routes (`/__sandbox/…`) answer. */
  url: string;
  /** Extra addresses for the banner (the Pub/Sub gRPC URL, Zoho's API domain). */
  extra: string | undefined;
  /** The provider's settings that point LeadSync at it. */
  settings: ProviderSettings;
  /** The same, as environment variables (the dev state file's `env`, for `pnpm cli` and friends). */
  env: Record<string, string>;
  /** With a snapshot file: whether the last run's state was loaded, or why not. */
  snapshot: SnapshotStatus | undefined;
  close(): Promise<void>;
}

/** The next port after `port` for an emulator's second listener; 0 (any free port) stays 0. */
const next = (port: number) => (port === 0 ? 0 : port + 1);

export const DEV_EMULATORS: readonly DevEmulatorDef[] = [
  {
    provider: "salesforce",
    displayName: "Salesforce",
    recordName: "Lead",
    portVar: "SALESFORCE_SANDBOX_PORT",
    credentialVars: ["SALESFORCE_CLIENT_ID", "SALESFORCE_LOGIN_URL"],
    ports: (port) => [
      { port, what: "HTTP" },
      { port: next(port), what: "Pub/Sub gRPC, SALESFORCE_SANDBOX_PORT + 1" },
    ],
    async start(config, snapshotPath) {
      const port = config.providers["salesforce"]!.sandboxPort ?? 3200;
      // Plaintext gRPC: the worker's client speaks grpc:// to it (SALESFORCE_PUBSUB_URL).
      const sandbox = await startSalesforceSandbox({ port, grpcPort: next(port), host: config.host, logger: false, ...(snapshotPath && { snapshotPath }) });
      const { clientId, clientSecret } = sandbox.state.options;
      const pubsubUrl = sandbox.pubsubUrl!;
      return {
        url: sandbox.url,
        extra: `Pub/Sub ${pubsubUrl}`,
        settings: { apiBase: sandbox.url, feedEndpoint: pubsubUrl, clientId, clientSecret },
        env: { SALESFORCE_LOGIN_URL: sandbox.url, SALESFORCE_PUBSUB_URL: pubsubUrl, SALESFORCE_CLIENT_ID: clientId, SALESFORCE_CLIENT_SECRET: clientSecret },
        snapshot: sandbox.snapshot,
        close: () => sandbox.close(),
      };
    },
    createBody: (f) => ({ Email: f.email, FirstName: f.firstName, LastName: f.lastName, Company: f.company }),
  },
  {
    provider: "zoho",
    displayName: "Zoho CRM",
    recordName: "Leads record",
    portVar: "ZOHO_SANDBOX_PORT",
    credentialVars: ["ZOHO_CLIENT_ID", "ZOHO_ACCOUNTS_URL"],
    ports: (port) => [
      { port, what: "accounts server" },
      { port: next(port), what: "API domain, ZOHO_SANDBOX_PORT + 1" },
    ],
    async start(config, snapshotPath) {
      const port = config.providers["zoho"]!.sandboxPort ?? 3300;
      const sandbox = await startZohoSandbox({ port, apiPort: next(port), host: config.host, logger: false, ...(snapshotPath && { snapshotPath }) });
      const { clientId, clientSecret } = sandbox.app;
      return {
        url: sandbox.url,
        extra: `API domain ${sandbox.apiDomain}`,
        settings: { apiBase: sandbox.accountsUrl, clientId, clientSecret },
        env: { ZOHO_ACCOUNTS_URL: sandbox.accountsUrl, ZOHO_CLIENT_ID: clientId, ZOHO_CLIENT_SECRET: clientSecret },
        snapshot: sandbox.snapshot,
        close: () => sandbox.close(),
      };
    },
    createBody: (f) => ({ Email: f.email, First_Name: f.firstName, Last_Name: f.lastName, Company: f.company }),
  },
  {
    provider: "pipedrive",
    displayName: "Pipedrive",
    recordName: "person",
    portVar: "PIPEDRIVE_SANDBOX_PORT",
    credentialVars: ["PIPEDRIVE_CLIENT_ID", "PIPEDRIVE_API_BASE"],
    ports: (port) => [{ port, what: "HTTP" }],
    async start(config, snapshotPath) {
      const port = config.providers["pipedrive"]!.sandboxPort ?? 3400;
      const sandbox = await startPipedriveSandbox({ port, host: config.host, logger: false, ...(snapshotPath && { snapshotPath }) });
      // API-token accounts: the URLs are all LeadSync needs (the OAuth app is the real Pipedrive's business).
      return {
        url: sandbox.url,
        extra: undefined,
        settings: { apiBase: sandbox.url, oauthBase: sandbox.url },
        env: { PIPEDRIVE_API_BASE: sandbox.url, PIPEDRIVE_OAUTH_URL: sandbox.url },
        snapshot: sandbox.snapshot,
        close: () => sandbox.close(),
      };
    },
    createBody: (f) => ({ name: `${f.firstName} ${f.lastName}`, emails: [{ value: f.email, primary: true, label: "work" }] }),
  },
];

/** The real CRMs' URLs: the configuration's defaults. */
const DEFAULT_PROVIDERS = loadConfig({ NODE_ENV: "development" }).providers;

/** Whether `config` names the provider's own credentials or URL (then `pnpm start` runs no emulator for it). */
export function credentialsSet(config: Config, provider: EmulatedProvider): boolean {
  const settings = config.providers[provider];
  return settings?.clientId !== undefined || settings?.apiBase !== DEFAULT_PROVIDERS[provider]?.apiBase;
}

/** The emulators this run starts: development only, for each provider whose credentials are unset. */
export function emulatorsToStart(config: Config): DevEmulatorDef[] {
  if (config.isProduction) return [];
  return DEV_EMULATORS.filter((def) => !credentialsSet(config, def.provider));
}

/** `config` with each provider's settings replaced by its emulator's (a new frozen object: the config is read-only). */
export function withEmulators(config: Config, settings: Partial<Record<string, ProviderSettings>>): Config {
  const providers: Record<string, ProviderSettings> = { ...config.providers };
  for (const [name, override] of Object.entries(settings)) providers[name] = Object.freeze({ ...providers[name], ...override });
  return Object.freeze({ ...config, providers: Object.freeze(providers) });
}

/** Starts one emulator; a taken port is a StartupError that names the variable to change. */
export async function startEmulator(def: DevEmulatorDef, config: Config, snapshotPath: string | undefined): Promise<RunningEmulator> {
  try {
    return await def.start(config, snapshotPath);
  } catch (error) {
    if (isAddressInUse(error)) {
      const port = config.providers[def.provider]?.sandboxPort ?? 0;
      const ports = def.ports(port).map((p) => p.port).join(" and ");
      throw new StartupError(`Port ${ports} is in use: set ${def.portVar} to a free port (0 picks any) for the ${def.displayName} emulator.`);
    }
    throw error;
  }
}

export function isAddressInUse(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return e?.code === "EADDRINUSE" || (typeof e?.message === "string" && /EADDRINUSE|address already in use|No address added/i.test(e.message));
}

/** The emulator's dev state entry: the variables that reach it, and its demo account and integration. */
export function emulatorDevEntry(def: DevEmulatorDef, running: RunningEmulator, demo: { accountId: string; integrationId: string }): DevProviderState {
  return { url: running.url, env: running.env, unlessEnv: def.credentialVars, accountId: demo.accountId, integrationId: demo.integrationId };
}
