import { v1, v2 } from "pipedrive";
import type { HttpFailure } from "./errors.js";

/**
 * The official SDK's API classes for one token. The SDK's axios interceptor hands back only the body and rejects
 * with only the error body, losing the status and the rate-limit headers; the client needs both (429 handling,
 * `limiter.observe`), so each API's response interceptors are replaced by ones that keep them.
 */
export interface PipedriveApis {
  persons: v2.PersonsApi;
  organizations: v2.OrganizationsApi;
  personFields: v1.PersonFieldsApi;
  webhooks: v1.WebhooksApi;
  users: v1.UsersApi;
  leads: v1.LeadsApi;
}

export type PipedriveAuth = { apiKey: string } | { accessToken: string };

const HTTP_INFO = Symbol("pipedrive.httpInfo");

export interface HttpInfo {
  status: number;
  headers: Record<string, string>;
}

/** A non-2xx answer, thrown by the replaced interceptor. */
export class PipedriveHttpFailure extends Error implements HttpFailure {
  override readonly name = "PipedriveHttpFailure";
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

/** The status and headers of a successful SDK call's result (see `instrument`). */
export function httpInfoOf(result: unknown): HttpInfo | undefined {
  return result !== null && typeof result === "object" ? (result as { [HTTP_INFO]?: HttpInfo })[HTTP_INFO] : undefined;
}

/** The parts of axios this module touches (axios is the SDK's dependency, not ours). */
interface AxiosLike {
  defaults: { timeout?: number };
  interceptors: { response: { clear(): void; use(onFulfilled: (response: AxiosResponseLike) => unknown, onRejected: (error: unknown) => unknown): number } };
}
interface AxiosResponseLike {
  status: number;
  headers: unknown;
  data: unknown;
}

function plainHeaders(headers: unknown): Record<string, string> {
  const source = headers && typeof headers === "object" && "toJSON" in headers && typeof headers.toJSON === "function" ? (headers.toJSON() as Record<string, unknown>) : (headers as Record<string, unknown> | undefined);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(source ?? {})) if (value !== undefined && value !== null) out[key.toLowerCase()] = String(value);
  return out;
}

function instrument<T extends object>(api: T, timeoutMs: number | undefined): T {
  const axios = (api as unknown as { axios: AxiosLike }).axios;
  if (timeoutMs !== undefined) axios.defaults.timeout = timeoutMs;
  axios.interceptors.response.clear();
  axios.interceptors.response.use(
    (response) => {
      const data = response.data !== null && typeof response.data === "object" ? response.data : { data: response.data };
      Object.defineProperty(data, HTTP_INFO, { value: { status: response.status, headers: plainHeaders(response.headers) }, enumerable: false });
      return data;
    },
    (error: unknown) => {
      const response = (error as { response?: AxiosResponseLike } | null)?.response;
      if (response) throw new PipedriveHttpFailure(response.status, plainHeaders(response.headers), response.data);
      throw error;
    },
  );
  return api;
}

/** `apiDomain` is the company's base URL (`https://acme.pipedrive.com`, OAuth's `api_domain`, or the emulator). */
export function createApis(apiDomain: string, auth: PipedriveAuth, timeoutMs?: number): PipedriveApis {
  const base = apiDomain.replace(/\/+$/, "");
  const c2 = new v2.Configuration({ ...auth, basePath: `${base}/api/v2` });
  const c1 = new v1.Configuration({ ...auth, basePath: `${base}/api/v1` });
  return {
    persons: instrument(new v2.PersonsApi(c2), timeoutMs),
    organizations: instrument(new v2.OrganizationsApi(c2), timeoutMs),
    personFields: instrument(new v1.PersonFieldsApi(c1), timeoutMs),
    webhooks: instrument(new v1.WebhooksApi(c1), timeoutMs),
    users: instrument(new v1.UsersApi(c1), timeoutMs),
    leads: instrument(new v1.LeadsApi(c1), timeoutMs),
  };
}
