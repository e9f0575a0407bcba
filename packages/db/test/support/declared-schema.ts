import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import internals from "@prisma/internals";
import type { ColumnSnapshot, ForeignKeySnapshot, IndexSnapshot, SchemaSnapshot, TableSnapshot } from "./schema-snapshot.js";

/**
 * What `schema.prisma` declares, as Postgres would show it after `prisma migrate dev`: Prisma's naming
 * conventions (`<table>_pkey`, `<table>_<cols>_key|_idx|_fkey`), its type mapping and its defaults.
 * The DMMF comes from Prisma's wasm schema parser, which works offline.
 */

export const SCHEMA_PATH = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../prisma/schema.prisma");

type Datamodel = Awaited<ReturnType<typeof internals.getDMMF>>["datamodel"];
type Model = Datamodel["models"][number];
type Field = Model["fields"][number];

export async function readSchema(): Promise<string> {
  return readFile(SCHEMA_PATH, "utf8");
}

export async function declaredSchema(schemaText: string): Promise<SchemaSnapshot> {
  const { datamodel } = await internals.getDMMF({ datamodel: schemaText });
  const enums = Object.fromEntries(
    datamodel.enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)]),
  );
  const enumDbNames = new Map(datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const tables: Record<string, TableSnapshot> = {};
  for (const model of datamodel.models) {
    tables[tableName(model)] = declaredTable(model, datamodel, enumDbNames);
  }
  return { enums, tables };
}

function tableName(model: Model): string {
  return model.dbName ?? model.name;
}

function columnName(model: Model, fieldName: string): string {
  const field = model.fields.find((f) => f.name === fieldName);
  if (!field) throw new Error(`${model.name}.${fieldName} is not a field`);
  return field.dbName ?? field.name;
}

function declaredTable(model: Model, datamodel: Datamodel, enumDbNames: Map<string, string>): TableSnapshot {
  const table = tableName(model);
  const columns: Record<string, ColumnSnapshot> = {};
  for (const field of model.fields) {
    if (field.kind !== "scalar" && field.kind !== "enum") continue;
    if (field.isList) throw new Error(`${model.name}.${field.name}: list columns are not mapped by the drift test yet`);
    columns[field.dbName ?? field.name] = {
      type: columnType(model, field, enumDbNames),
      nullable: !field.isRequired,
      default: columnDefault(table, field, enumDbNames),
    };
  }

  let primaryKey: TableSnapshot["primaryKey"] = null;
  const indexes: Record<string, IndexSnapshot> = {};
  for (const index of datamodel.indexes.filter((i) => i.model === model.name)) {
    const cols = index.fields.map((f) => columnName(model, f.name));
    const method = (index.algorithm ?? "BTree").toLowerCase();
    if (index.type === "id") {
      primaryKey = { name: index.dbName ?? `${table}_pkey`, columns: cols };
    } else if (index.type === "unique" || index.type === "normal") {
      const unique = index.type === "unique";
      const name = index.dbName ?? constraintName(table, cols, unique ? "key" : "idx");
      // A primary key is backed by an index too; the database side lists it with the indexes.
      indexes[name] = { columns: cols, unique, method };
    } else {
      throw new Error(`${model.name}: ${index.type} indexes are not mapped by the drift test yet`);
    }
  }
  if (primaryKey) indexes[primaryKey.name] = { columns: primaryKey.columns, unique: true, method: "btree" };

  const foreignKeys: Record<string, ForeignKeySnapshot> = {};
  for (const field of model.fields) {
    if (field.kind !== "object" || !field.relationFromFields?.length) continue;
    const target = datamodel.models.find((m) => m.name === field.type);
    if (!target) throw new Error(`${model.name}.${field.name}: unknown model ${field.type}`);
    const from = field.relationFromFields;
    const cols = from.map((name) => columnName(model, name));
    const allRequired = from.every((name) => model.fields.find((f) => f.name === name)?.isRequired);
    // Prisma's defaults: Restrict when the relation is required, SetNull when optional; updates cascade.
    const onDelete = field.relationOnDelete ?? (allRequired ? "Restrict" : "SetNull");
    const onUpdate = (field as Field & { relationOnUpdate?: string }).relationOnUpdate ?? "Cascade";
    foreignKeys[constraintName(table, cols, "fkey")] = {
      columns: cols,
      referencedTable: tableName(target),
      referencedColumns: (field.relationToFields ?? []).map((name) => columnName(target, name)),
      onDelete: referentialAction(onDelete),
      onUpdate: referentialAction(onUpdate),
    };
  }
  return { columns, primaryKey, indexes, foreignKeys };
}

const MAX_IDENTIFIER_LENGTH = 63;

/** Prisma's default constraint name, shortened like Prisma does to Postgres' 63-byte identifiers. */
function constraintName(table: string, columns: string[], suffix: string): string {
  const base = `${table}_${columns.join("_")}`;
  return `${base.slice(0, MAX_IDENTIFIER_LENGTH - suffix.length - 1)}_${suffix}`;
}

function referentialAction(action: string): string {
  const actions: Record<string, string> = {
    Cascade: "CASCADE",
    Restrict: "RESTRICT",
    NoAction: "NO ACTION",
    SetNull: "SET NULL",
    SetDefault: "SET DEFAULT",
  };
  const sql = actions[action];
  if (!sql) throw new Error(`unknown referential action ${action}`);
  return sql;
}

/** Postgres' spelling of an identifier in `format_type`/`pg_get_expr` output: quoted unless plain lower case. */
function sqlIdentifier(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

// Prisma's scalar → Postgres type mapping, default and native (@db.X) types, as format_type prints them.
function columnType(model: Model, field: Field, enumDbNames: Map<string, string>): string {
  if (field.kind === "enum") return sqlIdentifier(enumDbNames.get(field.type) ?? field.type);
  const [native, args = []] = (field.nativeType ?? []) as [string?, string[]?];
  const arg = (i: number) => args[i];
  switch (`${field.type}:${native ?? ""}`) {
    case "String:":
    case "String:Text":
      return "text";
    case "String:Uuid":
      return "uuid";
    case "String:VarChar":
      return args.length ? `character varying(${arg(0)})` : "character varying";
    case "String:Char":
      return `character(${arg(0) ?? 1})`;
    case "Boolean:":
      return "boolean";
    case "Int:":
    case "Int:Integer":
      return "integer";
    case "Int:SmallInt":
      return "smallint";
    case "BigInt:":
    case "BigInt:BigInt":
      return "bigint";
    case "Float:":
    case "Float:DoublePrecision":
      return "double precision";
    case "Float:Real":
      return "real";
    case "Decimal:":
      return "numeric(65,30)";
    case "Decimal:Decimal":
      return `numeric(${arg(0)},${arg(1)})`;
    case "DateTime:":
      return "timestamp(3) without time zone";
    case "DateTime:Timestamp":
      return `timestamp(${arg(0) ?? 6}) without time zone`;
    case "DateTime:Timestamptz":
      return `timestamp(${arg(0) ?? 6}) with time zone`;
    case "DateTime:Date":
      return "date";
    case "Json:":
    case "Json:JsonB":
      return "jsonb";
    case "Json:Json":
      return "json";
    case "Bytes:":
      return "bytea";
    default:
      throw new Error(`${model.name}.${field.name}: type ${field.type} ${native ?? ""} is not mapped by the drift test yet`);
  }
}

/** The column default as `pg_get_expr` prints it; null for defaults Prisma computes in the client (uuid(), cuid(), @updatedAt). */
function columnDefault(table: string, field: Field, enumDbNames: Map<string, string>): string | null {
  const value = field.default as unknown;
  if (value === undefined || value === null) return null;
  if (typeof value === "object" && !Array.isArray(value) && "name" in value) {
    const fn = value as { name: string; args: unknown[] };
    switch (fn.name) {
      case "now":
        return "CURRENT_TIMESTAMP";
      case "autoincrement":
        return `nextval('${table}_${field.dbName ?? field.name}_seq'::regclass)`;
      case "dbgenerated":
        return String(fn.args[0]);
      case "uuid":
      case "cuid":
      case "ulid":
      case "nanoid":
        return null;
      default:
        throw new Error(`${table}.${field.name}: default ${fn.name}() is not mapped by the drift test yet`);
    }
  }
  const literal = (text: string, type: string) => `'${text.replaceAll("'", "''")}'::${type}`;
  if (field.kind === "enum") return literal(String(value), sqlIdentifier(enumDbNames.get(field.type) ?? field.type));
  switch (field.type) {
    case "String":
      return literal(String(value), field.nativeType?.[0] === "VarChar" ? "character varying" : "text");
    case "Json":
      return literal(String(value), "jsonb");
    case "Boolean":
      return String(value);
    case "Int":
    case "BigInt":
    case "Float":
      return String(value);
    default:
      throw new Error(`${table}.${field.name}: a ${field.type} default is not mapped by the drift test yet`);
  }
}
