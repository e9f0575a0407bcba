/**
 * HubSpot failures as two error classes the workers can act on without knowing the SDK:
 * `retryable` says whether BullMQ should try again, `retryAfterMs` how long to delay the job.
 * Messages are built from HubSpot's error body, never from the request, so they carry no token.
 */

/** One entry of HubSpot's `errors[]` (validation details: which property, which input). */
export interface HubSpotErrorDetail {
  message: string;
  code?: string;
  in?: string;
  context?: Record<string, unknown>;
}

export interface HubSpotApiErrorInit {
  status?: number | undefined;
  category?: string | undefined;
  correlationId?: string | undefined;
  retryable: boolean;
  retryAfterMs?: number | undefined;
  details?: HubSpotErrorDetail[] | undefined;
  context?: Record<string, unknown> | undefined;
  cause?: unknown;
}

export class HubSpotApiError extends Error {
  readonly status: number | undefined;
  readonly category: string | undefined;
  readonly correlationId: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: HubSpotErrorDetail[];
  readonly context: Record<string, unknown> | undefined;

  constructor(message: string, init: HubSpotApiErrorInit) {
    super(redactSecrets(message), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "HubSpotApiError";
    this.status = init.status;
    this.category = init.category;
    this.correlationId = init.correlationId;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.details = init.details ?? [];
    this.context = init.context;
  }
}

/** HubSpot (or our own limiter) said "not now": always retryable, always with a delay. */
export class RateLimitedError extends HubSpotApiError {
  declare readonly retryAfterMs: number;
  /** HubSpot's `policyName` (`TEN_SECONDLY_ROLLING`, `DAILY`, `SECONDLY` for search) or `local` for our limiter. */
  readonly policy: string;

  constructor(message: string, init: Omit<HubSpotApiErrorInit, "retryable" | "retryAfterMs"> & { retryAfterMs: number; policy: string }) {
    super(message, { ...init, retryable: true });
    this.name = "RateLimitedError";
    this.policy = init.policy;
  }

  /** The portal's daily cap (HubSpot's or our own count of it), as core's CrmRateLimitedError says it. */
  get daily(): boolean {
    return this.policy === "DAILY" || this.policy === "local_daily";
  }
}

/** Raised when a refresh token is invalid, expired or revoked: the integration must be re-authorised. */
export class InvalidRefreshTokenError extends HubSpotApiError {
  /** Core's isCrmReauthRequired reads this: the integration needs re-authorisation, whatever the provider. */
  readonly reauthRequired = true;
  constructor(message = "HubSpot refused the refresh token (invalid, expired or revoked): re-authorise the integration") {
    super(message, { status: 400, category: "BAD_REFRESH_TOKEN", retryable: false });
    this.name = "InvalidRefreshTokenError";
  }
}

const SECOND_MS = 1000;
const TEN_SECONDS_MS = 10 * SECOND_MS;
/** HubSpot asks for ≥2 s before retrying a 423 Locked (error-handling docs). */
const LOCKED_RETRY_MS = 2 * SECOND_MS;
const SECONDLY_LIMIT_MESSAGE = "secondly limit";

/** The shape of the SDK's `ApiException` (each generated module has its own class, so no `instanceof`). */
interface ApiExceptionLike {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

export function isApiException(err: unknown): err is Error & ApiExceptionLike {
  return (
    err instanceof Error &&
    typeof (err as Partial<ApiExceptionLike>).code === "number" &&
    "body" in err &&
    typeof (err as Partial<ApiExceptionLike>).headers === "object"
  );
}

/** HubSpot's error JSON; every field is optional (HubSpot's docs say so). */
interface HubSpotErrorBody {
  message?: unknown;
  category?: unknown;
  correlationId?: unknown;
  policyName?: unknown;
  errors?: unknown;
  context?: unknown;
}

function asErrorBody(body: unknown): HubSpotErrorBody {
  if (typeof body === "string") {
    try {
      return asErrorBody(JSON.parse(body));
    } catch {
      return { message: body };
    }
  }
  return body !== null && typeof body === "object" ? (body as HubSpotErrorBody) : {};
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function parseDetails(errors: unknown): HubSpotErrorDetail[] {
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e): HubSpotErrorDetail[] => {
    if (e === null || typeof e !== "object") return [];
    const entry = e as Record<string, unknown>;
    const detail: HubSpotErrorDetail = { message: str(entry.message) ?? "" };
    const code = str(entry.code);
    const where = str(entry.in);
    if (code) detail.code = code;
    if (where) detail.in = where;
    if (entry.context && typeof entry.context === "object") detail.context = entry.context as Record<string, unknown>;
    return [detail];
  });
}

/** Header lookup that ignores case (the SDK lower-cases, fetch `Headers` too, but be safe). */
export function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** `Retry-After` in seconds (HubSpot's unit for API responses) or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * SECOND_MS);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Milliseconds from `now` to the next midnight in `timeZone` (HubSpot resets the daily cap at the account's midnight). */
export function msUntilMidnight(now: number, timeZone = "UTC"): number {
  const parts = clockFormat(timeZone).formatToParts(new Date(now));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const sinceMidnight = ((part("hour") * 60 + part("minute")) * 60 + part("second")) * SECOND_MS + (now % SECOND_MS);
  // On DST-change days the local day is 23 or 25 h long; the hint is then off by an hour, which only delays a job.
  return Math.max(1, 24 * 60 * 60 * SECOND_MS - sinceMidnight);
}

/**
 * Formatters per time zone, made once: building an Intl.DateTimeFormat costs far more than formatting with it, and
 * the limiter asks for the portal's date and time on every HubSpot call.
 */
const clockFormats = new Map<string, Intl.DateTimeFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function clockFormat(timeZone: string): Intl.DateTimeFormat {
  let format = clockFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", { timeZone, hourCycle: "h23", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    clockFormats.set(timeZone, format);
  }
  return format;
}

/** The portal's local date, YYYY-MM-DD (en-CA's format). */
export function localDate(now: number, timeZone = "UTC"): string {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", { timeZone });
    dateFormats.set(timeZone, format);
  }
  return format.format(new Date(now));
}

/** How long a 429 asks us to wait: `Retry-After` when present, else what the policy implies. */
export function retryAfterFor429(
  body: { policyName?: unknown; message?: unknown },
  headers: Record<string, string> | undefined,
  now = Date.now(),
  timeZone = "UTC",
): { retryAfterMs: number; policy: string } {
  const policy =
    str(body.policyName) ?? (str(body.message)?.includes(SECONDLY_LIMIT_MESSAGE) ? "SECONDLY" : "TEN_SECONDLY_ROLLING");
  const fromHeader = parseRetryAfter(headerValue(headers, "retry-after"), now);
  if (fromHeader !== undefined) return { retryAfterMs: Math.max(fromHeader, 1), policy };
  if (policy === "DAILY") return { retryAfterMs: msUntilMidnight(now, timeZone), policy };
  if (policy === "SECONDLY") return { retryAfterMs: SECOND_MS, policy };
  return { retryAfterMs: TEN_SECONDS_MS, policy };
}

function isRetryableStatus(status: number): boolean {
  // 5xx (incl. HubSpot's 502/504 processing limits, 503/521/523/524), 423 Locked, 408 timeout, 477 migrating.
  return status >= 500 || status === 423 || status === 408 || status === 477;
}

/** Any failure of an SDK call → `HubSpotApiError` (or `RateLimitedError`). Already-mapped errors pass through. */
export function toHubSpotError(err: unknown, operation: string, opts: { now?: number; timeZone?: string } = {}): HubSpotApiError {
  if (err instanceof HubSpotApiError) return err;
  const now = opts.now ?? Date.now();
  if (isApiException(err)) return fromHttpError(err.code, err.body, err.headers, operation, { ...opts, now });
  // No HTTP response at all: connection refused/reset, DNS, timeouts. All transient from our side.
  const reason = err instanceof Error ? describeNetworkError(err) : String(err);
  return new HubSpotApiError(`HubSpot ${operation} failed without a response: ${reason}`, { retryable: true, cause: err });
}

/** A non-2xx HubSpot response → `HubSpotApiError` (or `RateLimitedError` for 429). */
export function fromHttpError(
  status: number,
  rawBody: unknown,
  headers: Record<string, string>,
  operation: string,
  opts: { now?: number; timeZone?: string } = {},
): HubSpotApiError {
  const now = opts.now ?? Date.now();
  const body = asErrorBody(rawBody);
  const category = str(body.category);
  const message = `HubSpot ${operation} failed with HTTP ${status}${category ? ` (${category})` : ""}: ${str(body.message) ?? "no message"}`;
  const init = {
    status,
    category,
    correlationId: str(body.correlationId),
    details: parseDetails(body.errors),
    context: body.context && typeof body.context === "object" ? (body.context as Record<string, unknown>) : undefined,
  };
  if (status === 429) {
    const { retryAfterMs, policy } = retryAfterFor429(body, headers, now, opts.timeZone);
    return new RateLimitedError(message, { ...init, retryAfterMs, policy });
  }
  const headerDelay = parseRetryAfter(headerValue(headers, "retry-after"), now);
  return new HubSpotApiError(message, {
    ...init,
    retryable: isRetryableStatus(status),
    retryAfterMs: headerDelay ?? (status === 423 ? LOCKED_RETRY_MS : undefined),
  });
}

function describeNetworkError(err: Error): string {
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.name}: ${err.message}${cause}`;
}

/** Belt and braces: strip anything token-shaped that could ride along in a message (URLs with hapikey, Bearer headers). */
export function redactSecrets(text: string): string {
  return text
    .replace(/(hapikey|access_token|refresh_token|client_secret)=[^&\s"']+/gi, "$1=[redacted]")
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/g, "Bearer [redacted]");
}
