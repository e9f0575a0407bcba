/** Salesforce record ids: a 3-character key prefix, a 12-character base-62 body, and a 3-character case checksum (18 chars). */

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

export const KEY_PREFIX = { Lead: "00Q", Contact: "003", Org: "00D", User: "005", CustomField: "00N", QueryLocator: "01g", PlatformEventChannelMember: "0v8" } as const;

/** The 3-character suffix that makes a 15-character id case-insensitive: one bit per upper-case letter, 5 chars a block. */
export function checksumSuffix(id15: string): string {
  let suffix = "";
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const ch = id15.charAt(block * 5 + i);
      if (ch >= "A" && ch <= "Z") bits |= 1 << i;
    }
    suffix += CHECKSUM_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** `prefix` + a "pod" digit pair + a base-62 counter, padded to 15, plus the checksum. Ids sort by creation. */
export function makeId(prefix: string, counter: number): string {
  let body = "";
  let n = counter;
  do {
    body = BASE62.charAt(n % 62) + body;
    n = Math.floor(n / 62);
  } while (n > 0);
  const id15 = `${prefix}5g${body.padStart(10, "0")}`;
  return id15 + checksumSuffix(id15);
}

/** 15- or 18-character ids of the right shape; an 18-character id must carry the right checksum. */
export function isWellFormedId(id: string): boolean {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id)) return false;
  return id.length === 15 || checksumSuffix(id.slice(0, 15)) === id.slice(15);
}

/** The 18-character form of a well-formed id (Salesforce accepts either in URLs and SOQL). */
export function to18(id: string): string {
  return id.length === 18 ? id : id + checksumSuffix(id);
}
