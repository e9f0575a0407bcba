import { describe, expect, it } from "vitest";
import { DATA_CENTRES } from "../src/index.js";
import { trustedAccountsServer } from "../src/data-centres.js";

describe("data centres", () => {
  it("trusts Zoho's accounts servers and the configured override only", () => {
    expect(trustedAccountsServer("https://accounts.zoho.eu", undefined)).toBe("https://accounts.zoho.eu");
    expect(trustedAccountsServer("https://accounts.zohocloud.ca/", undefined)).toBe("https://accounts.zohocloud.ca");
    expect(trustedAccountsServer("https://accounts.zoho.eu.evil.example", undefined)).toBeUndefined();
    expect(trustedAccountsServer("http://127.0.0.1:3300", "http://127.0.0.1:3300")).toBe("http://127.0.0.1:3300");
    expect(trustedAccountsServer(undefined, undefined, "in")).toBe("https://accounts.zoho.in");
    expect(trustedAccountsServer(undefined, undefined, "mars")).toBeUndefined();
    expect(Object.keys(DATA_CENTRES)).toEqual(["us", "eu", "in", "au", "cn", "jp", "ca", "sa"]);
  });
});
