/**
 * What Postgres said when a query failed, read from Prisma's errors without importing its runtime classes. A model
 * query reports a unique or foreign-key violation as P2002 / P2003; a raw query (`$queryRaw`) passes the driver
 * adapter's error on, with Postgres' SQLSTATE and the constraint's index.
 */
export interface PostgresFailure {
  /** SQLSTATE, e.g. 23505 (unique violation), 23503 (foreign key), 40P01 (deadlock). */
  code: string;
  /** The unique index that was violated, when Postgres named it. */
  index?: string;
}

const MODEL_QUERY_CODES: Record<string, string> = { P2002: "23505", P2003: "23503" };

export function postgresFailure(error: unknown): PostgresFailure | null {
  if (typeof error !== "object" || error === null) return null;
  const { code, meta } = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; constraint?: { index?: unknown } } } } };
  const cause = meta?.driverAdapterError?.cause;
  if (typeof cause?.originalCode === "string") {
    const index = cause.constraint?.index;
    return typeof index === "string" ? { code: cause.originalCode, index } : { code: cause.originalCode };
  }
  const mapped = typeof code === "string" ? MODEL_QUERY_CODES[code] : undefined;
  return mapped ? { code: mapped } : null;
}

export const isUniqueViolation = (error: unknown): boolean => postgresFailure(error)?.code === "23505";
export const isForeignKeyViolation = (error: unknown): boolean => postgresFailure(error)?.code === "23503";
