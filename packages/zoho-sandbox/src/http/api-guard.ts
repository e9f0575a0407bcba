import type { FastifyReply, FastifyRequest } from "fastify";
import { setTimeout as sleep } from "node:timers/promises";
import type { Account } from "../state/account.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { authenticationFailure, envelope, invalidToken, invalidUrlPattern, tooManyRequests, ZohoError } from "./zoho-error.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** API credits the call costs (providers-facts §3.5); default 1. */
    credits?: (request: FastifyRequest) => number;
  }
}

const accountByRequest = new WeakMap<FastifyRequest, Account>();
const admitted = new WeakSet<FastifyRequest>();

/** The org whose access token authenticated this request (set by the guard). */
export function accountOf(request: FastifyRequest): Account {
  const account = accountByRequest.get(request);
  if (!account) throw new Error("accountOf() used on a route outside the API guard");
  return account;
}

export function endpointKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
}

/** Writes cost 1 credit per 10 records (UNCERTAIN: see README), at least 1. */
export function creditsForRecords(count: number): number {
  return Math.max(1, Math.ceil(count / 10));
}

/**
 * The CRM API's checks in order. onRequest: the API domain, the `Zoho-oauthtoken` header (expired or unknown →
 * 401 INVALID_TOKEN). preHandler (the body is known, so is the cost): per-org concurrency, injected faults, the
 * rolling-24 h credits (429 TOO_MANY_REQUESTS either way, as Zoho answers both), `X-API-CREDITS-REMAINING` from 50 %.
 */
export function apiGuard(state: SandboxState) {
  return {
    onRequest: async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      if (state.apiPort !== undefined && request.socket.localPort !== state.apiPort) return send(reply, invalidUrlPattern());
      const header = request.headers.authorization ?? "";
      const token = /^Zoho-oauthtoken\s+(\S+)$/i.exec(header)?.[1];
      if (!token) return send(reply, header === "" ? authenticationFailure() : invalidToken());
      const lookup = state.tokens.lookup(token);
      const account = lookup && state.accounts.get(lookup.accountId);
      if (!account) return send(reply, invalidToken());
      accountByRequest.set(request, account);
      account.countCall(endpointKey(request));
      return undefined;
    },
    preHandler: async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      const account = accountOf(request);
      if (account.inFlight >= account.concurrencyLimit()) return throttled(reply, account);
      account.inFlight++;
      account.maxInFlight = Math.max(account.maxInFlight, account.inFlight);
      admitted.add(request);
      for (const fault of state.faults.takeForApiCall(account.accountId)) {
        if (fault.kind === "latency") await sleep(fault.ms ?? 1000);
        if (fault.kind === "error") {
          const status = fault.status ?? 500;
          return send(reply, new ZohoError(status, "INTERNAL_ERROR", `Internal Server Error (injected fault: HTTP ${status})`));
        }
        if (fault.kind === "rate_limit") return throttled(reply, account);
      }
      const now = Date.now();
      const cost = request.routeOptions.config.credits?.(request) ?? 1;
      const limit = account.creditLimit();
      const used = account.credits.used(now);
      if (used + cost > limit) return throttled(reply, account);
      account.credits.spend(cost, now);
      // Zoho adds the header only once half of the day's credits are used
      if ((used + cost) * 2 >= limit) reply.header("x-api-credits-remaining", String(limit - used - cost));
      return undefined;
    },
    onResponse: async (request: FastifyRequest): Promise<void> => {
      if (!admitted.has(request)) return;
      admitted.delete(request);
      accountOf(request).inFlight--;
    },
  };
}

function throttled(reply: FastifyReply, account: Account): FastifyReply {
  account.calls.throttled++;
  return send(reply, tooManyRequests());
}

function send(reply: FastifyReply, error: ZohoError): FastifyReply {
  return reply.code(error.statusCode).send(envelope(error.code, error.message, error.details));
}
