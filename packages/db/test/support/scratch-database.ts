import { randomBytes } from "node:crypto";
import { withDatabase } from "../../src/database-url.js";
import { dropDatabase, testServerUrl } from "../../src/testing.js";

/** The URL of a database that does not exist yet (the runner must create it), and a way to drop it. */
export function scratchDatabase(): { name: string; url: string; drop(): Promise<void> } {
  const serverUrl = testServerUrl();
  const name = `leadsync_test_${randomBytes(6).toString("hex")}`;
  return { name, url: withDatabase(serverUrl, name), drop: () => dropDatabase(serverUrl, name) };
}
