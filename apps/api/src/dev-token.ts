import { createHmac } from "node:crypto";
import type { Config } from "@leadsync/config";

const DEV_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

/**
 * An HS256 platform JWT for `orgId`, signed with the configured secret — what `pnpm start` prints so a developer
 * can call the API at once. Synchronous and dependency-free so scripts can mint one without building the app.
 */
export function signDevToken(config: Pick<Config, "jwtSecret">, orgId: string, ttlSeconds = DEV_TOKEN_TTL_SECONDS): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify({ orgId, iat: now, exp: now + ttlSeconds }));
  const signature = createHmac("sha256", config.jwtSecret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}
