import { pino, type Logger } from "pino";

/** What the queue helpers log through: a pino logger (or anything with its signature). */
export type QueueLogger = Pick<Logger, "error" | "warn" | "info" | "debug">;

/** Used when a caller passes no logger, so `error` events are never silently dropped. */
export const defaultQueueLogger: QueueLogger = pino({ name: "leadsync-queue" });
