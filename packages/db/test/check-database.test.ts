import { describe, expect, it } from "vitest";
import { checkDatabase, isDatabaseReachable } from "../src/client.js";
import { withDatabase } from "../src/database-url.js";
import { testServerUrl } from "../src/testing.js";

describe("checkDatabase", () => {
  it("is ok for a database that answers", async () => {
    expect(await checkDatabase(withDatabase(testServerUrl(), "postgres"))).toEqual({ ok: true });
    expect(await isDatabaseReachable(withDatabase(testServerUrl(), "postgres"))).toBe(true);
  });

  it("tells a missing database (migrate creates it) from a server that does not answer", async () => {
    const missing = await checkDatabase(withDatabase(testServerUrl(), "leadsync_test_does_not_exist"));
    expect(missing).toMatchObject({ ok: false, reason: "missing_database" });

    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const down = await checkDatabase("postgresql://postgres:secret-pw@127.0.0.1:1/leadsync");
    expect(down).toMatchObject({ ok: false, reason: "unreachable" });
    if (down.ok) throw new Error("unreachable");
    expect(down.message).toContain("127.0.0.1:1");
    expect(down.message).not.toContain("secret-pw");
  });
});
