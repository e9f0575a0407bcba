import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

/**
 * Paths redacted from every log line: credentials in requests, tokens and secrets in objects we log.
 * Pino's redaction is path-based, so the common shapes are listed (top level and one level down).
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-hubspot-signature"]',
  'req.headers["x-hubspot-signature-v3"]',
  "headers.authorization",
  "accessToken",
  "refreshToken",
  "clientSecret",
  "developerApiKey",
  "token",
  "password",
  "*.accessToken",
  "*.refreshToken",
  "*.clientSecret",
  "*.developerApiKey",
  "*.token",
  "*.password",
  "*.authorization",
  "*.Authorization",
];

const REDACT_CENSOR = "[redacted]";
/** The paths without a wildcard: checking them costs next to nothing (see lineLogger). */
const TOP_LEVEL_REDACT_PATHS = REDACT_PATHS.filter((path) => !path.startsWith("*."));

/**
 * A child logger for hot lines whose fields the caller builds from ids, counts and reasons (never an object it
 * did not build, never an error): it checks only the top-level paths. The one-level-down wildcards cost about 3×
 * a line, and a worker writes ~300 such lines per 100-contact batch. Everything else keeps the full redaction.
 */
export function lineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: TOP_LEVEL_REDACT_PATHS, censor: REDACT_CENSOR } });
}

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** Human-readable output; defaults to on when stdout is a terminal. */
  pretty?: boolean;
  /** Where JSON lines go instead of stdout (tests). */
  destination?: DestinationStream;
}

export function createLogger({ name, level = "info", pretty = process.stdout.isTTY === true, destination }: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: REDACT_CENSOR },
  };
  if (destination) return pino(options, destination);
  if (pretty) {
    options.transport = { target: "pino-pretty", options: { colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" } };
    return pino(options);
  }
  // Asynchronous stdout: the lines logged while one piece of work runs (a worker logs ~300 per 100-contact batch)
  // leave in one write instead of one blocking write each. Pino flushes what is pending when the process exits.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

export type { Logger };

/** A URL without its password, for messages and logs (DATABASE_URL, REDIS_URL). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<invalid URL>";
  }
}
