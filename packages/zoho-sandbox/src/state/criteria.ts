import { ZohoError } from "../http/zoho-error.js";
import type { LeadRecord } from "./leads.js";

/**
 * Zoho search criteria: `(Field:operator:value)` joined by `and` / `or`, grouped with parentheses, e.g.
 * `((Email:equals:a@x.io)or(Last_Name:starts_with:Sm))`. Operators: equals, not_equal, starts_with, in.
 */
export type Predicate = (record: LeadRecord) => boolean;

export function parseCriteria(input: string): Predicate {
  let pos = 0;
  const fail = (): never => {
    throw new ZohoError(400, "INVALID_QUERY", "invalid query formed", { reason: "invalid criteria", criteria: input });
  };
  const expression = (): Predicate => {
    let left = term();
    for (;;) {
      const rest = input.slice(pos);
      const op = /^\s*(and|or)\s*/i.exec(rest);
      if (!op) return left;
      pos += op[0].length;
      const right = term();
      const l = left;
      left = op[1]?.toLowerCase() === "and" ? (r) => l(r) && right(r) : (r) => l(r) || right(r);
    }
  };
  const term = (): Predicate => {
    if (input[pos] !== "(") return fail();
    pos++;
    if (input[pos] === "(") {
      const inner = expression();
      if (input[pos] !== ")") return fail();
      pos++;
      return inner;
    }
    const close = input.indexOf(")", pos);
    if (close === -1) return fail();
    const body = input.slice(pos, close);
    pos = close + 1;
    const [field, operator, ...valueParts] = body.split(":");
    const value = valueParts.join(":").replace(/\\([(),:])/g, "$1");
    if (!field || !operator || valueParts.length === 0) return fail();
    return comparison(field, operator, value, fail);
  };
  const predicate = expression();
  if (pos !== input.length) fail();
  return predicate;
}

function comparison(field: string, operator: string, value: string, fail: () => never): Predicate {
  const read = (r: LeadRecord) => (field === "id" ? r.id : (r.values[field] ?? null));
  const ci = (s: string) => s.toLowerCase();
  switch (operator) {
    case "equals":
      return (r) => ci(read(r) ?? "") === ci(value) && read(r) !== null;
    case "not_equal":
      return (r) => ci(read(r) ?? "") !== ci(value);
    case "starts_with":
      return (r) => ci(read(r) ?? "").startsWith(ci(value)) && read(r) !== null;
    case "in": {
      const options = value.split(",").map(ci);
      return (r) => options.includes(ci(read(r) ?? ""));
    }
    default:
      return fail();
  }
}
