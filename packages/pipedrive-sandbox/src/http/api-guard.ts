import type { FastifyReply, FastifyRequest } from "fastify";
import { setTimeout as sleep } from "node:timers/promises";
import { tokenCost } from "../state/rate-limits.js";
import type { Caller, SandboxState } from "../state/sandbox-state.js";
import { DEFAULT_ERROR_INFO, errorBody } from "./errors.js";

const callerByRequest = new WeakMap<FastifyRequest, Caller>();

/** Who the API guard authenticated this request as. */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callerByRequest.get(request);
  if (!caller) throw new Error("callerOf() used on a route outside the API guard");
  return caller;
}

/** The key stats count calls by, e.g. `GET /api/v2/persons/:id`. */
export function endpointKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
}

/** The OAuth scopes that allow a route (any one of them); undefined: every token may call it. */
function scopesFor(method: string, route: string): string[] | undefined {
  const write = method !== "GET";
  if (route.endsWith("/search")) return ["search:read"];
  if (route.startsWith("/api/v2/persons") || route.startsWith("/api/v2/organizations")) return write ? ["contacts:full"] : ["contacts:read", "contacts:full"];
  if (route.includes("personFields")) return write ? ["admin"] : ["contacts:read", "contacts:full", "admin"];
  if (route.startsWith("/v1/webhooks")) return ["admin"];
  if (route.startsWith("/v1/leads")) return write ? ["leads:full"] : ["leads:read", "leads:full"];
  return undefined;
}

const CLOUDFLARE_BLOCK_MS = 60_000;
const CLOUDFLARE_PAGE =
  "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body><h1>Sorry, you have been blocked</h1><p>You are unable to access pipedrive.com</p></body></html>";

/**
 * onRequest hook of Pipedrive's APIs, in this order: authenticate (`x-api-token` header, `api_token` query or an
 * OAuth Bearer token), refuse a closed company (402), count the call, apply injected faults, check the OAuth scopes
 * (403), then the rate limits (daily token budget per company, 2 s burst per token, search 10 per 2 s → 429 with the
 * `x-ratelimit-*` headers). An api token that keeps calling through 429s gets Cloudflare's 403 HTML page.
 */
export function apiGuard(state: SandboxState) {
  const consecutive429 = new Map<string, number>();
  const blockedUntil = new Map<string, number>();

  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const query = request.query as Record<string, unknown> | undefined;
    const headerToken = request.headers["x-api-token"];
    const apiToken = typeof headerToken === "string" ? headerToken : typeof query?.["api_token"] === "string" ? (query["api_token"] as string) : undefined;
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]?.trim();
    const lookup = bearer ? state.lookupBearer(bearer) : apiToken ? state.lookupApiToken(apiToken) : ({ ok: false, reason: "invalid" } as const);
    if (!lookup.ok) {
      const message = lookup.reason === "expired" ? "Access token expired" : "unauthorized access";
      return reply.code(401).send(errorBody(message, DEFAULT_ERROR_INFO, { errorCode: 401 }));
    }
    const caller = lookup.caller;
    const { company } = caller;
    callerByRequest.set(request, caller);
    if (company.status !== "open") {
      return reply.code(402).send(errorBody("Company account is not open", "The subscription of this company has lapsed.", { errorCode: 402 }));
    }
    const endpoint = endpointKey(request);
    company.countCall(endpoint);

    for (const fault of state.faults.takeForApiCall(company.id)) {
      if (fault.kind === "latency") await sleep(fault.ms ?? 1000);
      if (fault.kind === "error") {
        const status = fault.status ?? 503;
        return reply.code(status).send(errorBody(status >= 500 ? "Service unavailable" : `Injected fault: HTTP ${status}`, DEFAULT_ERROR_INFO, { errorCode: status }));
      }
      if (fault.kind === "rate_limit") return sendRateLimited(reply, caller, fault.limit ?? "burst", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2" });
    }

    const route = request.routeOptions.url ?? "";
    const allowed = scopesFor(request.method, route);
    if (allowed && caller.scopes && !allowed.some((s) => caller.scopes?.includes(s))) {
      return reply.code(403).send(errorBody("Scope and URL mismatch", `This endpoint needs one of the scopes: ${allowed.join(", ")}`, { errorCode: 403 }));
    }

    const now = state.now();
    if (caller.authType === "api_token" && (blockedUntil.get(caller.token) ?? 0) > now) {
      return reply.code(403).type("text/html").send(CLOUDFLARE_PAGE);
    }
    const admission = company.limits.admit({
      token: caller.token,
      authType: caller.authType,
      cost: tokenCost(request.method, route),
      isSearch: route.endsWith("/search"),
      isWrite: ["POST", "PUT", "PATCH"].includes(request.method),
      now,
    });
    reply.headers(admission.headers);
    if (!admission.allowed) {
      const count = (consecutive429.get(caller.token) ?? 0) + 1;
      consecutive429.set(caller.token, count);
      if (caller.authType === "api_token" && count >= state.options.cloudflareBlockAfter429s) {
        blockedUntil.set(caller.token, now + CLOUDFLARE_BLOCK_MS);
        consecutive429.delete(caller.token);
      }
      return sendRateLimited(reply, caller, admission.reason === "daily" ? "daily" : "burst", admission.headers);
    }
    consecutive429.delete(caller.token);
    return undefined;
  };
}

function sendRateLimited(reply: FastifyReply, caller: Caller, limit: "burst" | "daily", headers: Record<string, string>): FastifyReply {
  caller.company.calls.throttled++;
  const message = limit === "daily" ? "Daily API token budget exceeded" : "Request over limit";
  const info =
    limit === "daily"
      ? "The company has used its daily token budget; it resets at midnight. See https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting"
      : "Too many requests in the last 2 seconds. See https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting";
  return reply.code(429).headers(headers).send(errorBody(message, info, { errorCode: 429 }));
}
