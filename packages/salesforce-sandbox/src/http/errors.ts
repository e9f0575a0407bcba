import type { RecordError } from "../state/record-errors.js";

/** A REST error answered in Salesforce's shape: a JSON array `[{ message, errorCode, fields? }]`. */
export class SalesforceError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
    readonly fields: string[] | undefined = undefined,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Array<Record<string, unknown>> {
    return [{ ...this.extra, message: this.message, errorCode: this.errorCode, ...(this.fields !== undefined && { fields: this.fields }) }];
  }
}

/** A failed single-record save: HTTP 400 with the record's errors (`statusCode` becomes `errorCode`). */
export function saveFailed(errors: RecordError[]): SalesforceErrors {
  return new SalesforceErrors(
    400,
    errors.map((e) => ({ ...(e.duplicateResult && { duplicateResult: e.duplicateResult }), message: e.message, errorCode: e.statusCode, fields: e.fields })),
  );
}

/** Several errors in one answer (a save that failed for more than one reason). */
export class SalesforceErrors extends Error {
  constructor(
    readonly statusCode: number,
    readonly items: Array<Record<string, unknown>>,
  ) {
    super(String(items[0]?.["message"] ?? "error"));
  }
}

export const notFound = (message = "The requested resource does not exist") => new SalesforceError(404, "NOT_FOUND", message);
export const malformedId = (id: string, type = "Lead") => new SalesforceError(400, "MALFORMED_ID", `${type} ID: id value of incorrect type: ${id}`, ["Id"]);
export const invalidSession = () => new SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid");
