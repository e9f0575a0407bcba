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

  it("every Markdown file .ci/run cites exists in the repository", () => {
    const script = readFileSync(join(ROOT, ".ci/run"), "utf8");
    const cited = [...script.matchAll(/([\w./-]+\.md)\b/g)].map((m) => m[1]!);
    for (const file of cited) expect(existsSync(join(ROOT, file)), `.ci/run cites ${file}`).toBe(true);
  });
});
