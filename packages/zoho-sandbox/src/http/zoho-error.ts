/** A request-level failure answered with Zoho's v8 envelope: `{code, details, message, status:"error"}`. */
export class ZohoError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): ZohoErrorBody {
    return envelope(this.code, this.message, this.details);
  }
}

export interface ZohoErrorBody {
  code: string;
  details: Record<string, unknown>;
  message: string;
  status: "error";
}

export function envelope(code: string, message: string, details: Record<string, unknown> = {}): ZohoErrorBody {
  return { code, details, message, status: "error" };
}

export const invalidToken = () => new ZohoError(401, "INVALID_TOKEN", "invalid oauth token");
export const authenticationFailure = () => new ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed");
export const requiredParamMissing = (param: string) =>
  new ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", { param_name: param });
export const invalidUrlPattern = () => new ZohoError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one");
export const tooManyRequests = () =>
  new ZohoError(429, "TOO_MANY_REQUESTS", "The number of API requests for the rolling 24 hour window or the concurrency limit has been exceeded");
