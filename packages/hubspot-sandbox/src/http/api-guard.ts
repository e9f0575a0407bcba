import type { FastifyReply, FastifyRequest } from "fastify";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Portal } from "../state/portal.js";
import { rateLimitMessage, type PolicyName } from "../state/rate-limiter.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { errorBody } from "./errors.js";

const portalByRequest = new WeakMap<FastifyRequest, Portal>();

/** The portal whose bearer token authenticated this request (set by the API guard). */
export function portalOf(request: FastifyRequest): Portal {
  const portal = portalByRequest.get(request);
  if (!portal) throw new Error("portalOf() used on a route outside the API guard");
  return portal;
}

/** The key stats count calls by, e.g. `POST /crm/v3/objects/contacts/batch/read`. */
export function endpointKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
}

/**
 * onRequest hook of the CRM APIs, in HubSpot's order: authenticate the bearer token, count the call,
 * apply injected faults, then the portal's rate limits (429 with HubSpot's body and headers).
 */
export function apiGuard(state: SandboxState) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const token = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]?.trim();
    const lookup = token ? state.lookupAccessToken(token) : ({ error: "INVALID_AUTHENTICATION" } as const);
    if ("error" in lookup) {
      const message =
        lookup.error === "EXPIRED_AUTHENTICATION"
          ? "The OAuth token used to make this call expired. Refresh the token and try again."
          : "Authentication credentials not found. This API supports OAuth 2.0 authentication.";
      return reply.code(401).send(errorBody(lookup.error, message));
    }
    const portal = lookup.portal;
    portalByRequest.set(request, portal);
    portal.countCall(endpointKey(request));

    for (const fault of state.faults.takeForApiCall(portal.portalId)) {
      if (fault.kind === "latency") await sleep(fault.ms ?? 1000);
      if (fault.kind === "error") {
        const status = fault.status ?? 503;
        return reply.code(status).send(errorBody("INTERNAL_ERROR", `Injected fault: HTTP ${status}`));
      }
      if (fault.kind === "rate_limit") {
        if (fault.retryAfterSeconds !== undefined) reply.header("retry-after", String(fault.retryAfterSeconds));
        return sendRateLimited(reply, portal, fault.policyName ?? "TEN_SECONDLY_ROLLING", {});
      }
    }

    const isSearch = request.method === "POST" && (request.routeOptions.url ?? "").endsWith("/search");
    const admission = portal.rateLimiter.admit(isSearch ? "search" : "standard", Date.now());
    reply.headers(admission.headers);
    if (!admission.allowed) return sendRateLimited(reply, portal, admission.policyName, admission.headers);
    return undefined;
  };
}

function sendRateLimited(reply: FastifyReply, portal: Portal, policyName: PolicyName, headers: Record<string, string>): FastifyReply {
  portal.calls.throttled++;
  return reply
    .code(429)
    .headers(headers)
    .send({
      status: "error",
      message: rateLimitMessage(policyName),
      errorType: "RATE_LIMIT",
      correlationId: randomUUID(),
      policyName,
      requestId: randomUUID(),
    });
}
