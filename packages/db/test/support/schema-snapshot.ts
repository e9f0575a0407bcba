/**
 * A database schema reduced to what the drift test compares: the same shape is built from
 * `schema.prisma` (declared-schema.ts) and from Postgres' catalog (database-schema.ts).
 */

export interface ColumnSnapshot {
  /** As Postgres' `format_type` renders it, e.g. `timestamp(3) with time zone`. */
  type: string;
  nullable: boolean;
  /** As `pg_get_expr` renders it, e.g. `'{}'::jsonb`; null when there is none. */
  default: string | null;
}

export interface IndexSnapshot {
  columns: string[];
  unique: boolean;
  method: string;
}

export interface ForeignKeySnapshot {
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface TableSnapshot {
  columns: Record<string, ColumnSnapshot>;
  primaryKey: { name: string; columns: string[] } | null;
  /** By index name; unique constraints appear here too (Postgres backs them with an index of the same name). */
  indexes: Record<string, IndexSnapshot>;
  /** By constraint name. */
  foreignKeys: Record<string, ForeignKeySnapshot>;
}

export interface SchemaSnapshot {
  /** Enum name → values in declaration order. */
  enums: Record<string, string[]>;
  tables: Record<string, TableSnapshot>;
}

/** Every difference, one line each, e.g. `leads.phone: missing in the database`. Empty when they agree. */
export function diffSnapshots(declared: SchemaSnapshot, database: SchemaSnapshot): string[] {
  const differences: string[] = [];
  diffKeyed("enum", declared.enums, database.enums, differences, (name, a, b) => {
    if (!sameJson(a, b)) differences.push(`enum ${name}: values ${json(a)} in schema.prisma, ${json(b)} in the database`);
  });
  diffKeyed("table", declared.tables, database.tables, differences, (table, a, b) => diffTable(table, a, b, differences));
  return differences;
}

function diffTable(table: string, declared: TableSnapshot, database: TableSnapshot, out: string[]): void {
  diffKeyed(`column ${table}.`, declared.columns, database.columns, out, (column, a, b) => {
    for (const key of ["type", "nullable", "default"] as const) {
      if (a[key] !== b[key]) out.push(`${table}.${column} ${key}: ${json(a[key])} in schema.prisma, ${json(b[key])} in the database`);
    }
  });
  if (!sameJson(declared.primaryKey, database.primaryKey)) {
    out.push(`${table} primary key: ${json(declared.primaryKey)} in schema.prisma, ${json(database.primaryKey)} in the database`);
  }
  diffKeyed(`index ${table}.`, declared.indexes, database.indexes, out, (name, a, b) => {
    if (!sameJson(a, b)) out.push(`index ${name} on ${table}: ${json(a)} in schema.prisma, ${json(b)} in the database`);
  });
  diffKeyed(`foreign key ${table}.`, declared.foreignKeys, database.foreignKeys, out, (name, a, b) => {
    if (!sameJson(a, b)) out.push(`foreign key ${name} on ${table}: ${json(a)} in schema.prisma, ${json(b)} in the database`);
  });
}

function diffKeyed<T>(
  label: string,
  declared: Record<string, T>,
  database: Record<string, T>,
  out: string[],
  compare: (key: string, declared: T, database: T) => void,
): void {
  const separator = label.endsWith(".") ? "" : " ";
  for (const [key, value] of Object.entries(declared)) {
    const actual = database[key];
    if (actual === undefined) out.push(`${label}${separator}${key}: missing in the database`);
    else compare(key, value, actual);
  }
  for (const key of Object.keys(database)) {
    if (!(key in declared)) out.push(`${label}${separator}${key}: in the database but not in schema.prisma`);
  }
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

// Compares by value whatever order the builders set the keys in (arrays keep their order: column order matters).
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, sortedKeys) === JSON.stringify(b, sortedKeys);
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}
