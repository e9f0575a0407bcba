import type avro from "avsc";

/**
 * Decodes a Pub/Sub field bitmap list (`changedFields`, `nulledFields`, `diffFields`) against the event's Avro schema.
 *
 * - An element `"0x…"` is a hex number; bit i (least significant = 0) set means top-level schema field i.
 * - An element `"{n}-0x…"` is a compound field: n is the top-level index of a nested record (e.g. `Name`), the hex
 *   bitmap indexes that record's fields.
 *
 * Person-name parts come back as their own API names (`FirstName`, `LastName`: the Lead fields they are);
 * other compound parts as `Parent.Child`.
 */
export function decodeFieldBitmaps(schema: avro.types.RecordType, bitmaps: readonly string[]): string[] {
  const fields = schema.fields;
  const names: string[] = [];
  for (const bitmap of bitmaps) {
    const dash = bitmap.indexOf("-");
    if (dash < 0) {
      for (const index of setBits(bitmap)) {
        const field = fields[index];
        if (field) names.push(field.name);
      }
      continue;
    }
    const parent = fields[Number(bitmap.slice(0, dash))];
    const nested = parent ? nestedRecord(parent.type) : undefined;
    if (!parent || !nested) continue;
    for (const index of setBits(bitmap.slice(dash + 1))) {
      const child = nested.fields[index];
      if (child) names.push(parent.name === "Name" ? child.name : `${parent.name}.${child.name}`);
    }
  }
  return names;
}

/** The bit positions set in a `0x…` hex string (any length, any case). */
function setBits(hex: string): number[] {
  const digits = hex.replace(/^0x/i, "");
  if (!/^[0-9a-f]*$/i.test(digits) || digits === "") return [];
  const value = BigInt(`0x${digits}`);
  const bits: number[] = [];
  for (let i = 0; value >> BigInt(i) > 0n; i++) if ((value >> BigInt(i)) & 1n) bits.push(i);
  return bits;
}

/** The record inside a `["null", {record}]` union (how compound fields are declared), or the record itself. */
export function nestedRecord(type: avro.Type): avro.types.RecordType | undefined {
  if (type.typeName === "record") return type as avro.types.RecordType;
  if (type.typeName === "union:unwrapped" || type.typeName === "union:wrapped") {
    return (type as avro.types.UnwrappedUnionType).types.find((t): t is avro.types.RecordType => t.typeName === "record");
  }
  return undefined;
}
