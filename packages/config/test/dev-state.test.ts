import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readDevState, setDevProvider, updateDevState, withDevState } from "../src/dev-state.js";
import { loadConfig } from "../src/env.js";

describe("the dev state file", () => {
  const dirs: string[] = [];
  const path = () => {
    const dir = mkdtempSync(join(tmpdir(), "dev-state-"));
    dirs.push(dir);
    return join(dir, ".leadsync", "dev.json");
  };
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("holds one entry per emulator, by provider name; each fills only the variables the environment leaves unset", () => {
    const file = path();
    setDevProvider(file, "hubspot", { url: "http://127.0.0.1:3100", env: { HUBSPOT_API_BASE: "http://127.0.0.1:3100" }, unlessEnv: ["HUBSPOT_ACCESS_TOKEN"] });
    setDevProvider(file, "pipedrive", { url: "http://127.0.0.1:3400", env: { PIPEDRIVE_API_BASE: "http://127.0.0.1:3400" }, unlessEnv: [] });
    updateDevState(file, { queuePrefix: "{leadsync:x}" });
    expect(Object.keys(readDevState(file)!.providers).sort()).toEqual(["hubspot", "pipedrive"]);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const { env, used } = withDevState({ PIPEDRIVE_API_BASE: "https://mine.example.com" }, file);
    expect(env["HUBSPOT_API_BASE"]).toBe("http://127.0.0.1:3100");
    expect(env["PIPEDRIVE_API_BASE"]).toBe("https://mine.example.com");
    expect(used).toEqual([{ provider: "hubspot", url: "http://127.0.0.1:3100" }]);
    expect(loadConfig(env).hubspot.apiBase).toBe("http://127.0.0.1:3100");

    // A private-app token means the real HubSpot: the sandbox entry is ignored.
    expect(withDevState({ HUBSPOT_ACCESS_TOKEN: "pat-real" }, file).env["HUBSPOT_API_BASE"]).toBeUndefined();
    setDevProvider(file, "pipedrive", undefined);
    expect(Object.keys(readDevState(file)!.providers)).toEqual(["hubspot"]);
  });

  it("is never read in tests or production, and a missing or broken file changes nothing", () => {
    const file = path();
    setDevProvider(file, "hubspot", { url: "http://127.0.0.1:3100", env: { HUBSPOT_API_BASE: "http://127.0.0.1:3100" }, unlessEnv: [] });
    for (const NODE_ENV of ["test", "production"]) expect(withDevState({ NODE_ENV }, file).env["HUBSPOT_API_BASE"]).toBeUndefined();
    expect(withDevState({}, join(tmpdir(), "no-such-dir", "dev.json")).used).toEqual([]);
  });
});
