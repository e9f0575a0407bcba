import { createLogger } from "@leadsync/config";
import { startSandbox, type Sandbox } from "@leadsync/hubspot-sandbox";

export const silentLogger = createLogger({ name: "hubspot-test", level: "silent", pretty: false });

export async function startTestSandbox(): Promise<Sandbox> {
  return startSandbox({ clientSecret: "test-client-secret", port: 0, defaultSubscriptions: false });
}

export async function sandboxStats(sandbox: Sandbox, portalId: number) {
  const response = await fetch(`${sandbox.url}/__sandbox/portals/${portalId}/stats`);
  return (await response.json()) as { calls: { total: number; byEndpoint: Record<string, number> }; throttled: number };
}

export async function injectFault(sandbox: Sandbox, fault: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sandbox.url}/__sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(fault),
  });
  if (!response.ok) throw new Error(`fault injection failed: ${response.status} ${await response.text()}`);
}

export async function seedContacts(sandbox: Sandbox, portalId: number, count: number): Promise<string[]> {
  const contacts = Array.from({ length: count }, (_, i) => ({
    properties: { email: `seed${i}@example.com`, firstname: `Seed${i}` },
  }));
  const response = await fetch(`${sandbox.url}/__sandbox/portals/${portalId}/contacts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ contacts }),
  });
  if (response.status !== 201) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { ids: Array<string | number> }).ids.map(String);
}
