/**
 * A failure of one record's save, in Salesforce's SaveResult error shape. Collections answer it as-is
 * (`statusCode`); single-record REST calls answer `[{ message, errorCode, fields }]` (see http/errors.ts).
 */
export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
  duplicateResult?: Record<string, unknown>;
}

export type SaveOutcome<T> = { ok: true; value: T } | { ok: false; errors: RecordError[] };

export const recordError = (statusCode: string, message: string, fields: string[] = []): RecordError => ({ statusCode, message, fields });
export const fail = <T>(...errors: RecordError[]): SaveOutcome<T> => ({ ok: false, errors });
