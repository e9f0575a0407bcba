import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevPipeline, type DevPipeline } from "./in-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function cli(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/cli.ts", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) => child.on("exit", (code) => resolve({ code, output })));
}

describe("pnpm cli while pnpm start runs (development)", () => {
  let dev: DevPipeline;
  beforeAll(async () => {
    dev = await startDevPipeline();
  }, 60_000);
  afterAll(() => dev?.close());

  it("pnpm start leaves a dev state file: the sandbox by provider name, its environment, the queue prefix", () => {
    const state = JSON.parse(readFileSync(dev.statePath, "utf8")) as Record<string, unknown> & { providers: Record<string, { url: string; env: Record<string, string> }> };
    const sandboxUrl = dev.pipeline.summary.sandbox!.url;
    expect(state).toMatchObject({ version: 1, queuePrefix: dev.config.queuePrefix, demo: { integrationId: dev.pipeline.summary.integrationId } });
    expect(state.providers["hubspot"]).toMatchObject({ url: sandboxUrl, env: { HUBSPOT_API_BASE: sandboxUrl } });
  });

  it("`pnpm cli backfill --integration <demo id>` reaches pnpm start's sandbox with no extra variable", async () => {
    const { url, portalId } = dev.pipeline.summary.sandbox!;
    const created = await fetch(`${url}/__sandbox/portals/${portalId}/contacts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contacts: [{ properties: { email: "cli-dev@example.com", firstname: "Cli" } }] }),
    });
    expect(created.ok).toBe(true);
    expect(dev.childEnv["HUBSPOT_API_BASE"]).toBeUndefined();

    const { code, output } = await cli(["backfill", "--integration", dev.pipeline.summary.integrationId], dev.childEnv);
    expect(output).not.toMatch(/ENOTFOUND|api\.hubapi\.com/);
    expect(code, output).toBe(0);
    expect(output).toContain(`Using the hubspot emulator of \`pnpm start\` at ${url}`);
    expect(output).toMatch(/completed in .*1 contact\(s\) read/);
  }, 60_000);

  it("the dev state names every CRM emulator, with the variables that reach it; `pnpm cli` reaches Pipedrive's with none set", async () => {
    const state = JSON.parse(readFileSync(dev.statePath, "utf8")) as { providers: Record<string, { url: string; env: Record<string, string>; unlessEnv: string[]; accountId: string; integrationId: string }> };
    for (const crm of dev.pipeline.summary.crms) {
      expect(state.providers[crm.provider]).toMatchObject({ url: crm.url, accountId: crm.accountId, integrationId: crm.integrationId });
    }
    expect(state.providers["salesforce"]!.env).toMatchObject({ SALESFORCE_LOGIN_URL: dev.pipeline.summary.crms[0]!.url, SALESFORCE_PUBSUB_URL: expect.stringMatching(/^grpc:\/\//) });
    expect(state.providers["zoho"]!.unlessEnv).toEqual(["ZOHO_CLIENT_ID", "ZOHO_ACCOUNTS_URL"]);

    const pipedrive = dev.pipeline.summary.crms.find((crm) => crm.provider === "pipedrive")!;
    const created = await fetch(`${pipedrive.url}/__sandbox/accounts/${pipedrive.accountId}/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records: [{ name: "Cli Dev", emails: [{ value: "cli-pipedrive@example.com", primary: true, label: "work" }] }] }),
    });
    expect(created.status).toBe(201);
    const { code, output } = await cli(["backfill", "--integration", pipedrive.integrationId], dev.childEnv);
    expect(code, output).toBe(0);
    expect(output).toContain(`Using the pipedrive emulator of \`pnpm start\` at ${pipedrive.url}`);
  }, 60_000);

  it("the dev state is ignored outside development: tests and production never reach a developer's sandbox", async () => {
    const { code, output } = await cli(["backfill", "--integration", dev.pipeline.summary.integrationId], { ...dev.childEnv, NODE_ENV: "test", HUBSPOT_REQUEST_TIMEOUT_MS: "2000" });
    expect(code).toBe(1);
    expect(output).not.toContain("Using the hubspot emulator");
  }, 60_000);
});
