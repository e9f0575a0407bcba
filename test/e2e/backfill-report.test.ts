import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./harness.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** `pnpm cli backfill` in a pipe (not a TTY), as CI or `| tee` runs it. */
async function backfillInAPipe(h: Harness, integrationId: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/cli.ts", "backfill", "--integration", integrationId], {
    cwd: ROOT,
    env: {
      PATH: process.env["PATH"],
      NODE_ENV: "test",
      DATABASE_URL: h.config.databaseUrl,
      REDIS_URL: h.config.redisUrl,
      QUEUE_PREFIX: h.config.queuePrefix,
      HUBSPOT_API_BASE: h.config.hubspot.apiBase,
      HUBSPOT_CLIENT_SECRET: h.config.hubspot.clientSecret,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { code, stdout, stderr };
}

function outcomes(stdout: string) {
  const match = /(\d+) contact\(s\) read: (\d+) created, (\d+) updated, (\d+) linked, (\d+) already in sync, (\d+) skipped/.exec(stdout);
  expect(match, stdout).not.toBeNull();
  const [read, created, updated, linked, unchanged, skipped] = match!.slice(1).map(Number) as [number, number, number, number, number, number];
  return { read, created, updated, linked, unchanged, skipped };
}

describe("pnpm cli backfill's report", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ receiver: false, tier: "unlimited" });
  });
  afterAll(() => h?.close());

  it("ends at 100% in a pipe, and every contact read lands in exactly one counted outcome", async () => {
    // 250 contacts: three chunks of ≤100, so the last update falls between two plain progress lines.
    await h.createPlatformLead({ email: "known-0@example.com" });
    await h.createContacts([
      ...Array.from({ length: 247 }, (_, i) => ({ email: `known-${i}@example.com`, firstname: `Known ${i}` })),
      { firstname: "No email" },
      { email: "ours@example.com", lead_source_system: h.config.leadSourceMarker },
      { email: "new@example.com" },
    ]);

    const first = await backfillInAPipe(h, h.integration.id);
    expect(first.code, first.stderr).toBe(0);
    const progressLines = first.stderr.split("\n").filter((line) => /^\[[#-]+\]/.test(line));
    expect(progressLines.at(-1), first.stderr).toMatch(/\] 100% 250\/250 /);
    const a = outcomes(first.stdout);
    expect(a).toMatchObject({ read: 250, created: 247, updated: 1, skipped: 2 });
    expect(a.created + a.updated + a.linked + a.unchanged + a.skipped).toBe(a.read);

    // A second backfill reads the same contacts: all already in sync (or skipped for the same reasons as before).
    const second = await backfillInAPipe(h, h.integration.id);
    expect(second.code, second.stderr).toBe(0);
    const b = outcomes(second.stdout);
    expect(b).toMatchObject({ read: 250, created: 0, updated: 0, linked: 0, unchanged: 248, skipped: 2 });
  }, 60_000);
});
