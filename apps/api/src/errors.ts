/**
 * The API's error contract: every error a handler means to send is an AppError carrying its HTTP status and a
 * stable machine-readable code. The error-handler plugin turns them into `{ success: false, error: { code, message, details? } }`.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "A valid Bearer token is required") {
    super(401, "unauthorized", message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super(404, "not_found", `${what} not found`);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(409, code, message, details);
  }
}

export class UnprocessableError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(422, code, message, details);
  }
}

/** An upstream (CRM) failure that is not the caller's fault. */
export class BadGatewayError extends AppError {
  constructor(code: string, message: string) {
    super(502, code, message);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, details?: unknown) {
    super(503, code, message, details);
  }
}

export { isForeignKeyViolation, isUniqueViolation } from "@leadsync/db";
