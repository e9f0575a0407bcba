import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, lineLogger } from "../src/logger.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ name: "test", pretty: false, destination }) };
}

describe("createLogger redaction", () => {
  it("redacts secrets at the top level and one level down", () => {
    const { lines, logger } = capture();
    logger.info({ token: "top-secret", integration: { accessToken: "nested-secret" } }, "x");
    expect(JSON.stringify(lines)).not.toContain("secret");
    expect(lines[0]).toMatchObject({ token: "[redacted]", integration: { accessToken: "[redacted]" } });
  });
});

describe("lineLogger", () => {
  it("keeps the bindings and the top-level redaction for id lines", () => {
    const { lines, logger } = capture();
    const hot = lineLogger(logger.child({ queue: "crm-changes" })).child({ jobId: "j1" });
    hot.info({ objectId: "1001", leadId: "L1", token: "top-secret" }, "Lead created: L1");
    expect(lines[0]).toMatchObject({ queue: "crm-changes", jobId: "j1", objectId: "1001", leadId: "L1", token: "[redacted]", msg: "Lead created: L1" });
  });

  it("leaves its parent's full redaction as it was", () => {
    const { lines, logger } = capture();
    lineLogger(logger);
    logger.info({ integration: { refreshToken: "nested-secret" } }, "x");
    expect(JSON.stringify(lines)).not.toContain("nested-secret");
  });
});
