import { randomUUID } from "node:crypto";

/** HubSpot's error categories used by the sandbox (hubspot-facts.md §4.1). */
export type ErrorCategory =
  | "VALIDATION_ERROR"
  | "CONFLICT"
  | "OBJECT_NOT_FOUND"
  | "INVALID_AUTHENTICATION"
  | "EXPIRED_AUTHENTICATION"
  | "RATE_LIMITS"
  | "INTERNAL_ERROR";

/** An error answered with HubSpot's JSON shape: `{status:"error", message, correlationId, category, ...extra}`. */
export class HubSpotError extends Error {
  constructor(
    readonly statusCode: number,
    readonly category: ErrorCategory,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return errorBody(this.category, this.message, this.extra);
  }
}

export function errorBody(category: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: "error", message, correlationId: randomUUID(), category, ...extra };
}

export const notFound = (message = "resource not found") => new HubSpotError(404, "OBJECT_NOT_FOUND", message);
export const validationError = (message: string, extra: Record<string, unknown> = {}) =>
  new HubSpotError(400, "VALIDATION_ERROR", message, extra);
