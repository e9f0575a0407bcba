/** Pipedrive's error envelope (providers-facts §4.6): `{success:false, error, error_info, data:null, additional_data:null}`. */
export function errorBody(error: string, errorInfo: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { success: false, error, error_info: errorInfo, data: null, additional_data: null, ...extra };
}

const INFO = "Please check developers.pipedrive.com for more information about Pipedrive API.";

/** An error answered in Pipedrive's envelope. */
export class PipedriveError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly errorInfo: string = INFO,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return errorBody(this.message, this.errorInfo, this.extra);
  }
}

export const badRequest = (message: string) => new PipedriveError(400, message);
export const notFound = (message: string) => new PipedriveError(404, message);
export const forbidden = (message: string, errorInfo = INFO) => new PipedriveError(403, message, errorInfo);
export const unauthorized = (message = "unauthorized access") => new PipedriveError(401, message);
export const gone = (message: string, errorInfo = INFO) => new PipedriveError(410, message, errorInfo);
export const unprocessable = (message: string) => new PipedriveError(422, message);

export { INFO as DEFAULT_ERROR_INFO };
