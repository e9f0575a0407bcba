import type { FastifyReply, FastifyRequest } from "fastify";
import { setTimeout as sleep } from "node:timers/promises";
import type { WriteContext } from "../state/records.js";
import type { Org } from "../state/org.js";
import type { AccessTokenEntry, SandboxState } from "../state/sandbox-state.js";

/** The oldest API version the sandbox serves (Change Data Capture exists since 44.0). */
export const MIN_API_VERSION = 44;

export interface ApiContext {
  org: Org;
  session: AccessTokenEntry;
  /** e.g. "59.0" */
  version: string;
  /** `client=` of the Sforce-Call-Options header */
  clientId: string | undefined;
}

const contextByRequest = new WeakMap<FastifyRequest, ApiContext>();

export function apiContext(request: FastifyRequest): ApiContext {
  const context = contextByRequest.get(request);
  if (!context) throw new Error("apiContext() used on a route outside the API guard");
  return context;
}

/** The key stats count calls by, e.g. `PATCH /services/data/:version/sobjects/Lead/:id`. */
export function endpointKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
}

export function parseCallOptionsClient(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(",") : header;
  if (!value) return undefined;
  for (const part of value.split(",")) {
    const [name, ...rest] = part.split("=");
    if (name?.trim().toLowerCase() === "client" && rest.length > 0) return rest.join("=").trim();
  }
  return undefined;
}

/**
 * How an API write is stamped: `changeOrigin` = `com/salesforce/api/rest/<version>[;client=<id>]`, commitUser = the
 * session's user. Collections writes carry `;client=` only while the org's `collectionsCallOptions` switch is on.
 */
export function apiWriteContext(request: FastifyRequest, kind: "sobject" | "collection"): WriteContext {
  const { org, session, version, clientId } = apiContext(request);
  const withClient = clientId !== undefined && (kind === "sobject" || org.settings.collectionsCallOptions);
  const duplicateHeader = String(request.headers["sforce-duplicate-rule-header"] ?? "");
  return {
    userId: session.userId,
    changeOrigin: `com/salesforce/api/rest/${version}${withClient ? `;client=${clientId}` : ""}`,
    allowSave: /allowSave\s*=\s*true/i.test(duplicateHeader),
    now: Date.now(),
  };
}

const sfError = (reply: FastifyReply, status: number, errorCode: string, message: string) => reply.code(status).send([{ message, errorCode }]);

/**
 * onRequest hook of `/services/data/vXX.X/…`, in Salesforce's order: version, session, the concurrent
 * long-running cap, the rolling 24 h allowance, `Sforce-Limit-Info`, then injected faults.
 */
export function apiGuard(state: SandboxState) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const version = /^\/services\/data\/v(\d+\.\d)(\/|$|\?)/.exec(request.url)?.[1];
    if (version === undefined || Number(version) < MIN_API_VERSION) return sfError(reply, 404, "NOT_FOUND", "The requested resource does not exist");

    const token = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]?.trim();
    const lookup = token ? state.lookupAccessToken(token) : ({ error: "INVALID_SESSION_ID" } as const);
    if ("error" in lookup) return sfError(reply, 401, "INVALID_SESSION_ID", "Session expired or invalid");
    const { org, entry } = lookup;
    contextByRequest.set(request, { org, session: entry, version, clientId: parseCallOptionsClient(request.headers["sforce-call-options"]) });
    org.countCall(endpointKey(request));

    const now = Date.now();
    const limitHeader = () => `api-usage=${org.usage.used()}/${org.settings.dailyApiRequests}`;
    const longRunning = [...org.inFlight].filter((r) => now - r.startedAt >= state.options.longRunningMs).length;
    if (longRunning >= org.settings.concurrentLongRunningLimit) {
      org.calls.throttled++;
      reply.header("sforce-limit-info", limitHeader());
      return sfError(reply, 403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.");
    }
    if (org.usage.used(now) >= org.settings.dailyApiRequests) {
      org.calls.throttled++;
      reply.header("sforce-limit-info", limitHeader());
      return sfError(reply, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    }
    org.usage.record(now);
    reply.header("sforce-limit-info", limitHeader());

    const inFlight = { startedAt: now };
    org.inFlight.add(inFlight);
    reply.raw.once("close", () => org.inFlight.delete(inFlight));

    for (const fault of state.faults.takeForApiCall(org.orgId)) {
      if (fault.kind === "latency") await sleep(fault.ms ?? 1000);
      if (fault.kind === "error") {
        const status = fault.status ?? 503;
        return status === 503
          ? sfError(reply, 503, "SERVER_UNAVAILABLE", "Server unavailable")
          : sfError(reply, status, "UNKNOWN_EXCEPTION", `An unexpected error occurred. Please include this ErrorId if you contact support: 1776413981-${status} (-1)`);
      }
      if (fault.kind === "request_limit") {
        org.calls.throttled++;
        return sfError(reply, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
      }
    }
    return undefined;
  };
}
