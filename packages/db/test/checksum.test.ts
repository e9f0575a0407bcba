import { describe, expect, it } from "vitest";
import { migrationChecksum, scriptMatchesChecksum } from "../src/checksum.js";

describe("migration checksums (Prisma's algorithm)", () => {
  it("is the zero-padded sha256 hex of the script, like Prisma's own test vector", () => {
    expect(migrationChecksum("hello")).toBe("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  });

  it("matches a script whose line endings git rewrote", () => {
    const lf = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";
    const crlf = lf.replaceAll("\n", "\r\n");
    expect(scriptMatchesChecksum(crlf, migrationChecksum(lf))).toBe(true);
    expect(scriptMatchesChecksum(lf, migrationChecksum(crlf))).toBe(true);
  });

  it("matches the unpadded checksums old Prisma versions recorded", () => {
    // sha256("hello") has bytes below 0x10 (…0e…), so the old rendering is shorter than 64 characters.
    const unpadded = "2cf24dba5fb0a3e26e83b2ac5b9e29e1b161e5c1fa7425e7343362938b9824";
    expect(scriptMatchesChecksum("hello", unpadded)).toBe(true);
  });

  it("rejects any other change", () => {
    expect(scriptMatchesChecksum("abc\n", migrationChecksum("abc"))).toBe(false);
    expect(scriptMatchesChecksum("abc", migrationChecksum("abcd"))).toBe(false);
  });
});
