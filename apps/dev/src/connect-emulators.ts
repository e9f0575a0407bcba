import type { PrismaClient } from "@leadsync/db";
import type { FastifyInstance } from "fastify";
import type { DevEmulatorDef, RunningEmulator } from "./emulators.js";
import { StartupError } from "./preflight.js";

export interface EmulatorDemo {
  accountId: string;
  integrationId: string;
  /** How many earlier demo integrations of this provider were removed (their emulator accounts are gone). */
  removed: number;
}

/**
 * Connects `orgId` to a new account of the emulator the way a customer does: the emulator's admin route hands out an
 * account and its `connect` body (CONTRACT.md), `POST /api/v1/crm-integration` with that body, then enable-webhooks.
 *
 * Emulators keep nothing once they stop, so the org's earlier integrations of this provider (a previous run's) point at
 * accounts that no longer exist: they are removed first (with their links), which also frees the account id a fresh
 * emulator hands out again.
 */
export async function connectEmulatorDemo(input: {
  app: FastifyInstance;
  prisma: PrismaClient;
  headers: Record<string, string>;
  orgId: string;
  def: DevEmulatorDef;
  running: RunningEmulator;
}): Promise<EmulatorDemo> {
  const { app, prisma, headers, orgId, def, running } = input;
  const response = await fetch(`${running.url}/__sandbox/accounts`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  if (response.status !== 201) throw new StartupError(`The ${def.displayName} emulator refused a new account (${response.status}): ${await response.text()}`);
  const account = (await response.json()) as { accountId: string | number; connect: Record<string, unknown> };

  const { count: removed } = await prisma.crmIntegration.deleteMany({ where: { orgId, provider: def.provider } });

  const created = await app.inject({ method: "POST", url: "/api/v1/crm-integration", headers, payload: account.connect });
  if (created.statusCode !== 201) throw new StartupError(`Could not connect the ${def.displayName} emulator's account ${account.accountId}: ${describeError(created.body)}`);
  const integrationId = (created.json() as { data: { id: string } }).data.id;

  const enabled = await app.inject({ method: "POST", url: `/api/v1/crm-integration/${integrationId}/enable-webhooks`, headers, payload: {} });
  if (enabled.statusCode !== 200) throw new StartupError(`Could not turn on the ${def.displayName} emulator's change feed: ${describeError(enabled.body)}`);
  return { accountId: String(account.accountId), integrationId, removed };
}

export function describeError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? body;
  } catch {
    return body;
  }
}
