import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptToken, encryptToken } from "../src/index.js";

describe("token encryption", () => {
  const key = randomBytes(32);

  it("round-trips and never stores the plaintext", () => {
    const stored = encryptToken("pat-na1-secret-token", key);
    expect(stored).not.toContain("pat-na1-secret-token");
    expect(decryptToken(stored, key)).toBe("pat-na1-secret-token");
  });

  it("uses a fresh IV each time", () => {
    expect(encryptToken("same", key)).not.toBe(encryptToken("same", key));
  });

  it("refuses a wrong key or a tampered ciphertext", () => {
    const stored = encryptToken("token", key);
    expect(() => decryptToken(stored, randomBytes(32))).toThrow();
    const [v, iv, tag, data] = stored.split(".");
    const flipped = Buffer.from(data!, "base64url");
    flipped[0] = flipped[0]! ^ 1;
    expect(() => decryptToken([v, iv, tag, flipped.toString("base64url")].join("."), key)).toThrow();
  });

  it("refuses keys that are not 32 bytes", () => {
    expect(() => encryptToken("t", randomBytes(16))).toThrow(/32 bytes/);
  });
});
