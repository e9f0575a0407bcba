import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("repository layout", () => {
  it("apps/api/src/routes/leads holds only route plugins (helpers live in apps/api/src/leads)", async () => {
    const dir = join(ROOT, "apps/api/src/routes/leads");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const mod = (await import(join(dir, file))) as { default?: unknown };
      expect(typeof mod.default, `${file} should export a Fastify route plugin`).toBe("function");
    }
  });

  it("no two apps hold modules of one name that do different things (integrations.ts is the worker's directory only)", () => {
    const named = (app: string) => readdirSync(join(ROOT, "apps", app, "src"), { recursive: true }).map(String).filter((f) => f.split("/").pop() === "integrations.ts");
    expect(named("api")).toEqual([]);
    expect(named("worker")).toEqual(["integrations.ts"]);
  });

  it("every Markdown file .ci/run cites exists in the repository", () => {
    const script = readFileSync(join(ROOT, ".ci/run"), "utf8");
    const cited = [...script.matchAll(/([\w./-]+\.md)\b/g)].map((m) => m[1]!);
    for (const file of cited) expect(existsSync(join(ROOT, file)), `.ci/run cites ${file}`).toBe(true);
  });
});
