import pg from "pg";
import type { SchemaSnapshot, TableSnapshot } from "./schema-snapshot.js";

/** What a migrated database really contains (its current schema, minus Prisma's `_prisma_migrations`), read from the catalog. */
export async function databaseSchema(databaseUrl: string): Promise<SchemaSnapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // One connection runs one query at a time.
    const enums = await client.query<{ name: string; values: string[] }>(ENUMS);
    const columns = await client.query<{ table: string; column: string; type: string; notnull: boolean; default: string | null }>(COLUMNS);
    const indexes = await client.query<{ table: string; name: string; columns: (string | null)[]; unique: boolean; primary: boolean; method: string; partial: boolean }>(INDEXES);
    const foreignKeys = await client.query<{ table: string; name: string; columns: string[]; referenced_table: string; referenced_columns: string[]; on_delete: string; on_update: string }>(FOREIGN_KEYS);
    const tables: Record<string, TableSnapshot> = {};
    const tableOf = (name: string): TableSnapshot => (tables[name] ??= { columns: {}, primaryKey: null, indexes: {}, foreignKeys: {} });
    for (const c of columns.rows) {
      tableOf(c.table).columns[c.column] = { type: c.type, nullable: !c.notnull, default: c.default };
    }
    for (const i of indexes.rows) {
      const table = tableOf(i.table);
      // Expression and partial indexes cannot come from schema.prisma: make them show up as a difference.
      const cols = i.columns.map((col) => col ?? "<expression>");
      table.indexes[i.name] = { columns: i.partial ? [...cols, "<partial>"] : cols, unique: i.unique, method: i.method };
      if (i.primary) table.primaryKey = { name: i.name, columns: cols };
    }
    for (const fk of foreignKeys.rows) {
      tableOf(fk.table).foreignKeys[fk.name] = {
        columns: fk.columns,
        referencedTable: fk.referenced_table,
        referencedColumns: fk.referenced_columns,
        onDelete: REFERENTIAL_ACTIONS[fk.on_delete] ?? fk.on_delete,
        onUpdate: REFERENTIAL_ACTIONS[fk.on_update] ?? fk.on_update,
      };
    }
    return { enums: Object.fromEntries(enums.rows.map((e) => [e.name, e.values])), tables };
  } finally {
    await client.end();
  }
}

// pg_constraint.confdeltype / confupdtype codes.
const REFERENTIAL_ACTIONS: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

const OWN_TABLES = `c.relkind = 'r' AND n.nspname = current_schema() AND c.relname <> '_prisma_migrations'`;

const ENUMS = `
SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = current_schema()
GROUP BY t.typname`;

const COLUMNS = `
SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS default
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE ${OWN_TABLES} AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum`;

// Column names in index order; NULL for an expression column (indkey 0).
const INDEXES = `
SELECT c.relname AS table, i.relname AS name, ix.indisunique AS unique, ix.indisprimary AS primary,
       am.amname AS method, ix.indpred IS NOT NULL AS partial,
       array(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_index ix
JOIN pg_class c ON c.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_am am ON am.oid = i.relam
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ${OWN_TABLES}`;

const FOREIGN_KEYS = `
SELECT c.relname AS table, con.conname AS name, rc.relname AS referenced_table,
       con.confdeltype AS on_delete, con.confupdtype AS on_update,
       array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
       array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS referenced_columns
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_class rc ON rc.oid = con.confrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'f' AND ${OWN_TABLES}`;
