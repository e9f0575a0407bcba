import { createHash } from "node:crypto";

/**
 * Migration checksums exactly as Prisma's schema engine computes and compares them
 * (schema-engine `checksum.rs`), so `prisma migrate deploy` accepts the rows our runner writes.
 */

const CHECKSUM_LENGTH = 64;

function sha256(script: string): Buffer {
  return createHash("sha256").update(script, "utf8").digest();
}

/** The checksum recorded for a new migration: sha256 of the file's text, zero-padded lowercase hex. */
export function migrationChecksum(script: string): string {
  return sha256(script).toString("hex");
}

// Old Prisma versions wrote each byte without zero padding; such rows are still valid.
function unpaddedHex(digest: Buffer): string {
  return Array.from(digest, (byte) => byte.toString(16)).join("");
}

/** Whether a script matches a recorded checksum, ignoring LF/CRLF differences like Prisma does (git may rewrite line endings). */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll("\r\n", "\n"), script.replaceAll("\n", "\r\n")];
  return variants.some((variant) => {
    const digest = sha256(variant);
    const rendered = checksum !== "" && checksum.length !== CHECKSUM_LENGTH ? unpaddedHex(digest) : digest.toString("hex");
    return rendered === checksum;
  });
}
