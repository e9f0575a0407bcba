import { z } from "zod";

/** Error codes of the webhook endpoint (CONTRACT.md "HTTP": `{ success: false, error: { code, message } }`). */
export type WebhookErrorCode =
  | "invalid_signature"
  | "invalid_body"
  | "payload_too_large"
  | "unsupported_media_type"
  | "queue_unavailable"
  | "internal_error"
  // A provider's own auth codes (e.g. unauthorized for wrong Basic credentials or channel token).
  | (string & {});

/** A rejection of a webhook request. `reason` is finer than `code` and labels the rejection metric and log line. */
export class WebhookError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: WebhookErrorCode,
    message: string,
    readonly reason: string = code,
  ) {
    super(message);
    this.name = "WebhookError";
  }
}

export const successResponse = z.object({ success: z.literal(true) });

export const errorResponse = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorResponse = z.infer<typeof errorResponse>;

export function errorBody(code: string, message: string): ErrorResponse {
  return { success: false, error: { code, message } };
}

/** Fastify's own errors for the body (content-type parser, body limit) mapped onto the webhook contract. */
export function toWebhookError(error: unknown): WebhookError {
  if (error instanceof WebhookError) return error;
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new WebhookError(415, "unsupported_media_type", "Content-Type must be application/json");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new WebhookError(413, "payload_too_large", "Request body is too large");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new WebhookError(400, "invalid_body", "Request body is malformed", "malformed_body");
    default: {
      const statusCode = (error as { statusCode?: unknown }).statusCode;
      if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
        return new WebhookError(statusCode, "invalid_body", "Bad request", "bad_request");
      }
      return new WebhookError(500, "internal_error", "Internal error", "internal_error");
    }
  }
}
