import { Writable } from "node:stream";
import { REDACT_PATHS } from "@leadsync/config";
import { pino, type Logger } from "pino";

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger (same redaction as production) whose lines land in memory, so tests can assert what operators see. */
export function capturingLogger(level = "info"): { logger: Logger; lines: LogLine[]; messages: () => string[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = pino({ level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, sink);
  return { logger, lines, messages: () => lines.map((l) => l.msg) };
}
