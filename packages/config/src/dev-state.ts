import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * The development state file (`.leadsync/dev.json` at the repository root, git-ignored). `pnpm start` writes what it
 * started and generated — each emulator's URL and the environment that points at it, the demo integration, the queue
 * prefix — so that every later dev command (`pnpm cli …`, `pnpm start:worker`, a test by hand) reaches the same
 * emulators without extra variables, and the next `pnpm start` can restore the demo integration.
 *
 * Emulators register themselves under `providers.<name>` (hubspot, salesforce, zoho, pipedrive): `env` lists the
 * variables that point a process at that emulator (e.g. `HUBSPOT_API_BASE`); the other keys are the emulator's own.
 * It is never read in production or in tests (`NODE_ENV=test`): tests must not see a developer's running sandbox.
 */

export const DEV_STATE_VERSION = 1;

export const devProviderStateSchema = z
  .object({
    /** Where the emulator listens, e.g. http://127.0.0.1:3100. */
    url: z.string().url(),
    /** Environment variables this emulator answers for (filled in only where the environment leaves them unset). */
    env: z.record(z.string(), z.string()).default({}),
    /** The entry is ignored when one of these is set (HUBSPOT_ACCESS_TOKEN: the real HubSpot is meant, not the sandbox). */
    unlessEnv: z.array(z.string()).default([]),
  })
  .catchall(z.unknown());
export type DevProviderState = z.infer<typeof devProviderStateSchema>;

export const devStateSchema = z.object({
  version: z.literal(DEV_STATE_VERSION),
  updatedAt: z.string(),
  /** The `pnpm start` process that wrote it last. */
  pid: z.number().int().optional(),
  apiUrl: z.string().optional(),
  databaseName: z.string().optional(),
  queuePrefix: z.string().optional(),
  /** A development JWT for org "demo" (signed with the development secret). */
  devJwt: z.string().optional(),
  /** The demo integration `pnpm start` connected: kept across restarts. */
  demo: z.object({ integrationId: z.string(), provider: z.string(), externalAccountId: z.string() }).optional(),
  providers: z.record(z.string(), devProviderStateSchema).default({}),
});
export type DevState = z.infer<typeof devStateSchema>;

/** `LEADSYNC_DEV_STATE`, or `.leadsync/dev.json` at the repository root (found from this file: the source is run as is). */
export function devStatePath(env: Record<string, string | undefined> = process.env): string {
  return env["LEADSYNC_DEV_STATE"] || fileURLToPath(new URL("../../../.leadsync/dev.json", import.meta.url));
}

/** The state, or undefined when there is none (or it is unreadable: a stale file must never stop a command). */
export function readDevState(path: string): DevState | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = devStateSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the whole state atomically (rename), readable by the user only: it holds sandbox tokens. */
export function writeDevState(path: string, state: Omit<DevState, "version" | "updatedAt">): DevState {
  const full: DevState = { ...state, version: DEV_STATE_VERSION, updatedAt: new Date().toISOString() };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return full;
}

/** Merges `patch` into the stored state (providers by name), so each emulator can add its own entry. */
export function updateDevState(path: string, patch: Partial<Omit<DevState, "version" | "updatedAt">>): DevState {
  const current = readDevState(path);
  const { version: _v, updatedAt: _u, ...rest } = current ?? { version: DEV_STATE_VERSION, updatedAt: "", providers: {} };
  return writeDevState(path, { ...rest, ...patch, providers: { ...rest.providers, ...patch.providers } });
}

/** Adds (or, with undefined, removes) one emulator's entry, keeping every other provider's: what `pnpm start` calls per emulator. */
export function setDevProvider(path: string, provider: string, entry: DevProviderState | undefined): DevState {
  const { version: _v, updatedAt: _u, ...current } = readDevState(path) ?? { version: DEV_STATE_VERSION, updatedAt: "", providers: {} };
  const providers = { ...current.providers };
  if (entry) providers[provider] = entry;
  else delete providers[provider];
  return writeDevState(path, { ...current, providers });
}

/** Development is NODE_ENV unset or "development" (the config's default). */
export function isDevelopment(env: Record<string, string | undefined>): boolean {
  return env["NODE_ENV"] === undefined || env["NODE_ENV"] === "" || env["NODE_ENV"] === "development";
}

/**
 * `env` with the variables the dev state provides filled in where `env` leaves them unset, in development only;
 * otherwise `env` itself. Pass the result to `loadConfig`. `used` names the providers whose emulator was picked up.
 */
export function withDevState(
  env: Record<string, string | undefined> = process.env,
  path = devStatePath(env),
): { env: Record<string, string | undefined>; used: { provider: string; url: string }[] } {
  if (!isDevelopment(env)) return { env, used: [] };
  const state = readDevState(path);
  if (!state) return { env, used: [] };
  const filled: Record<string, string | undefined> = { ...env };
  const used: { provider: string; url: string }[] = [];
  for (const [provider, entry] of Object.entries(state.providers)) {
    if (entry.unlessEnv.some((name) => env[name] !== undefined && env[name] !== "")) continue;
    let any = false;
    for (const [name, value] of Object.entries(entry.env)) {
      if (filled[name] === undefined || filled[name] === "") {
        filled[name] = value;
        any = true;
      }
    }
    if (any) used.push({ provider, url: entry.url });
  }
  return { env: filled, used };
}
