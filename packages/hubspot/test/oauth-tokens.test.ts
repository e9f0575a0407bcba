import type { Sandbox } from "@leadsync/hubspot-sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidRefreshTokenError } from "../src/errors.js";
import { AccessTokenCache, refreshAccessToken, type OAuthTokens, type TokenStore } from "../src/oauth-tokens.js";
import { checkAccessToken } from "../src/account.js";
import { createHubSpotClient } from "../src/sdk-client.js";
import { testRedis } from "./redis-helpers.js";
import { startTestSandbox } from "./sandbox-helpers.js";

let sandbox: Sandbox;
const { redis, keyPrefix, cleanup } = testRedis("oauth");
beforeAll(async () => {
  sandbox = await startTestSandbox();
});
afterAll(async () => {
  await sandbox.close();
  await cleanup();
});

/** A stored token set (standing in for the encrypted integration row) and a counted refresh against the sandbox. */
function storeFor(initial: OAuthTokens) {
  let stored = { ...initial };
  let refreshCalls = 0;
  const store: TokenStore = {
    load: async () => ({ ...stored }),
    refresh: async (current) => {
      refreshCalls++;
      return refreshAccessToken({
        basePath: sandbox.url,
        clientId: sandbox.app.clientId,
        clientSecret: sandbox.app.clientSecret,
        refreshToken: current.refreshToken,
      });
    },
    save: async (tokens) => {
      stored = { ...tokens };
    },
  };
  return { store, refreshCalls: () => refreshCalls, stored: () => stored };
}

describe("OAuth tokens", () => {
  it("keeps at most maxRemembered tokens in memory, the most recently used ones", async () => {
    const cache = new AccessTokenCache({ redis, keyPrefix, maxRemembered: 3 });
    const loads: string[] = [];
    const storeOf = (id: string): TokenStore => ({
      load: async () => {
        loads.push(id);
        return { accessToken: `token-${id}`, refreshToken: "r", expiresAt: Date.now() + 3_600_000 };
      },
      refresh: async () => {
        throw new Error("not expected");
      },
      save: async () => undefined,
    });
    for (const id of ["a", "b", "c", "a", "d"]) expect(await cache.getAccessToken(id, storeOf(id))).toBe(`token-${id}`);
    expect(cache.remembered).toBe(3);
    // "a" was used again before "d" came, so "b" went: "a" is served from memory, "b" is read from its store again.
    loads.length = 0;
    await cache.getAccessToken("a", storeOf("a"));
    await cache.getAccessToken("b", storeOf("b"));
    expect(loads).toEqual(["b"]);
  });

  it("refreshes once for 20 concurrent callers in separate caches, and the new token works", async () => {
    const portal = sandbox.createPortal({ authType: "oauth" });
    const fixture = storeFor({ accessToken: portal.accessToken, refreshToken: portal.refreshToken ?? "", expiresAt: Date.now() + 60_000 });
    // Separate cache instances: no shared memory, only Redis, as in separate worker processes.
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => new AccessTokenCache({ redis, keyPrefix }).getAccessToken(`int-${portal.portalId}`, fixture.store)),
    );
    expect(fixture.refreshCalls()).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(portal.accessToken);
    expect(fixture.stored().expiresAt).toBeGreaterThan(Date.now() + 25 * 60_000);
    const account = await checkAccessToken(createHubSpotClient({ basePath: sandbox.url, accessToken: tokens[0] as string }));
    expect(account.portalId).toBe(String(portal.portalId));
  });

  it("uses the stored token while it is fresh", async () => {
    const fixture = storeFor({ accessToken: "fresh", refreshToken: "r", expiresAt: Date.now() + 20 * 60_000 });
    expect(await new AccessTokenCache({ redis, keyPrefix }).getAccessToken("fresh", fixture.store)).toBe("fresh");
    expect(fixture.refreshCalls()).toBe(0);
  });

  it("an invalid refresh token → InvalidRefreshTokenError for every waiting caller, one refresh attempt", async () => {
    const fixture = storeFor({ accessToken: "old", refreshToken: "revoked-refresh-token", expiresAt: Date.now() - 1 });
    await expect(
      refreshAccessToken({ basePath: sandbox.url, clientId: sandbox.app.clientId, clientSecret: sandbox.app.clientSecret, refreshToken: "nope" }),
    ).rejects.toBeInstanceOf(InvalidRefreshTokenError);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => new AccessTokenCache({ redis, keyPrefix }).getAccessToken("revoked", fixture.store)),
    );
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      if (outcome.status === "rejected") expect(outcome.reason).toBeInstanceOf(InvalidRefreshTokenError);
    }
    expect(fixture.refreshCalls()).toBe(1);
  });
});
