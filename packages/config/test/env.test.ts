import { describe, expect, it } from "vitest";
import { ConfigError, DEV_CLIENT_SECRET, envBoolean, loadConfig } from "../src/env.js";


describe("loadConfig", () => {
  it("in development derives the queue prefix from the database name, so two dev setups on one Redis share no jobs", () => {
    const a = loadConfig({ DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/leadsync" });
    const b = loadConfig({ DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/leadsync_other" });
    expect(a.queuePrefix).toBe("{leadsync:leadsync}");
    expect(b.queuePrefix).toBe("{leadsync:leadsync_other}");
    // One hash tag: the database name cannot close the braces early.
    expect(loadConfig({ DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/a%7Db" }).queuePrefix).toBe("{leadsync:a_b}");
    expect(loadConfig({ NODE_ENV: "development", QUEUE_PREFIX: "{mine}" }).queuePrefix).toBe("{mine}");
    expect(loadConfig({ NODE_ENV: "test" }).queuePrefix).toBe("{leadsync}");
    const production = { NODE_ENV: "production", HUBSPOT_CLIENT_SECRET: "s", JWT_SECRET: "j", ENCRYPTION_KEY: Buffer.alloc(32).toString("base64") };
    expect(loadConfig(production).queuePrefix).toBe("{leadsync}");
  });

  it("applies the contract's defaults", () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe("postgresql://postgres:postgres@127.0.0.1:5432/leadsync");
    expect(config.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(config.port).toBe(3000);
    expect(config.apiUrl).toBe("http://127.0.0.1:3000");
    expect(config.leadSourceMarker).toBe("jazzaam");
    expect(config.hubspot.apiBase).toBe("https://api.hubapi.com");
    expect(config.hubspot.useSandbox).toBe(true);
    expect(config.hubspot.clientSecret).toBe(DEV_CLIENT_SECRET);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("derives API_URL from PORT and strips trailing slashes", () => {
    expect(loadConfig({ PORT: "4000" }).apiUrl).toBe("http://127.0.0.1:4000");
    expect(loadConfig({ API_URL: "https://sync.example.com/" }).apiUrl).toBe("https://sync.example.com");
  });

  it("accepts HUBSPOT_WEBHOOK_SECRET as an alias of HUBSPOT_CLIENT_SECRET", () => {
    expect(loadConfig({ HUBSPOT_WEBHOOK_SECRET: "s1" }).hubspot.clientSecret).toBe("s1");
    expect(loadConfig({ HUBSPOT_WEBHOOK_SECRET: "s1", HUBSPOT_CLIENT_SECRET: "s2" }).hubspot.clientSecret).toBe("s2");
  });

  it("refuses production without secrets, listing every missing one", () => {
    try {
      loadConfig({ NODE_ENV: "production" });
      expect.unreachable("production without secrets must throw");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const issues = (error as ConfigError).issues.join("\n");
      expect(issues).toContain("HUBSPOT_CLIENT_SECRET");
      expect(issues).toContain("JWT_SECRET");
      expect(issues).toContain("ENCRYPTION_KEY");
    }
  });

  it("turns the operator dashboard off in production without a login", () => {
    const base = {
      NODE_ENV: "production",
      HUBSPOT_CLIENT_SECRET: "x",
      JWT_SECRET: "y",
      ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    };
    expect(loadConfig(base).bullBoard).toBeUndefined();
    expect(loadConfig({ ...base, BULL_BOARD_USER: "ops", BULL_BOARD_PASSWORD: "pw" }).bullBoard).toEqual({ user: "ops", password: "pw" });
  });

  it("rejects an encryption key that is not 32 bytes", () => {
    expect(() => loadConfig({ ENCRYPTION_KEY: Buffer.alloc(16).toString("base64") })).toThrow(/ENCRYPTION_KEY/);
  });

  it("rejects malformed values with the variable's name", () => {
    expect(() => loadConfig({ PORT: "http" })).toThrow(/PORT/);
    expect(() => loadConfig({ REDIS_URL: "not a url" })).toThrow(/REDIS_URL/);
  });

  it("parses booleans strictly", () => {
    expect(envBoolean.parse("false")).toBe(false);
    expect(envBoolean.parse("1")).toBe(true);
    expect(() => envBoolean.parse("maybe")).toThrow();
  });
});
