// Generates the Prisma client (`prisma generate`) without internet access.
// Prisma 7 downloads its native schema engine before generating, although generation does not run it;
// pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips the download (see ARCHITECTURE.md).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const require = createRequire(import.meta.url);
const prismaCli = require.resolve("prisma/build/index.js");

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
env.CHECKPOINT_DISABLE = "1";

const result = spawnSync(process.execPath, [prismaCli, "generate", "--schema", resolve(root, "prisma/schema.prisma")], {
  cwd: root,
  env,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
