import { SalesforceError } from "../http/errors.js";

/** The SOQL a sync needs: SELECT fields FROM Lead [WHERE conditions with AND/OR/NOT/()] [ORDER BY f [ASC|DESC], …] [LIMIT n]. */
export type Literal = string | number | boolean | null | { datetime: number };

export interface Condition {
  field: string;
  op: "=" | "!=" | "<" | ">" | "<=" | ">=" | "IN" | "NOT IN" | "LIKE";
  value: Literal | Literal[];
}

export type WhereExpr = { kind: "condition"; condition: Condition } | { kind: "and" | "or"; items: WhereExpr[] } | { kind: "not"; item: WhereExpr };

/** Every condition of a WHERE tree, for field-name checks. */
export function conditionsOf(expr: WhereExpr | undefined): Condition[] {
  if (!expr) return [];
  if (expr.kind === "condition") return [expr.condition];
  if (expr.kind === "not") return conditionsOf(expr.item);
  return expr.items.flatMap(conditionsOf);
}

export function evaluate(expr: WhereExpr | undefined, test: (condition: Condition) => boolean): boolean {
  if (!expr) return true;
  switch (expr.kind) {
    case "condition":
      return test(expr.condition);
    case "not":
      return !evaluate(expr.item, test);
    case "and":
      return expr.items.every((item) => evaluate(item, test));
    case "or":
      return expr.items.some((item) => evaluate(item, test));
  }
}

export interface SoqlQuery {
  fields: string[];
  /** `count()` instead of fields */
  count: boolean;
  object: string;
  where: WhereExpr | undefined;
  orderBy: Array<{ field: string; descending: boolean }>;
  limit: number | undefined;
}

type Token = { kind: "word" | "string" | "number" | "datetime" | "punct"; text: string; pos: number };

const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/;

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const ch = soql.charAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'") {
      let text = "";
      let j = i + 1;
      for (; j < soql.length; j++) {
        const c = soql.charAt(j);
        if (c === "\\") {
          text += soql.charAt(++j);
          continue;
        }
        if (c === "'") break;
        text += c;
      }
      if (j >= soql.length) throw malformed(soql, i, "unterminated string literal");
      tokens.push({ kind: "string", text, pos: i });
      i = j + 1;
      continue;
    }
    const datetime = DATETIME_RE.exec(soql.slice(i));
    if (datetime) {
      tokens.push({ kind: "datetime", text: datetime[0], pos: i });
      i += datetime[0].length;
      continue;
    }
    const two = soql.slice(i, i + 2);
    if (two === "!=" || two === "<=" || two === ">=" || two === "<>") {
      tokens.push({ kind: "punct", text: two === "<>" ? "!=" : two, pos: i });
      i += 2;
      continue;
    }
    if ("=<>(),".includes(ch)) {
      tokens.push({ kind: "punct", text: ch, pos: i });
      i++;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(soql.slice(i));
    if (number) {
      tokens.push({ kind: "number", text: number[0], pos: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(soql.slice(i));
    if (!word) throw malformed(soql, i, `unexpected token: '${ch}'`);
    tokens.push({ kind: "word", text: word[0], pos: i });
    i += word[0].length;
  }
  return tokens;
}

/** Salesforce's MALFORMED_QUERY message: the query, a caret, the row/column and the reason. */
export function malformed(soql: string, pos: number, reason: string): SalesforceError {
  return new SalesforceError(400, "MALFORMED_QUERY", `\n${soql}\n${" ".repeat(pos)}^\nERROR at Row:1:Column:${pos + 1}\n${reason}`);
}

export function parseSoql(soql: string): SoqlQuery {
  const tokens = tokenize(soql);
  let at = 0;
  const peek = () => tokens[at];
  const keyword = (word: string) => peek()?.kind === "word" && peek()?.text.toUpperCase() === word;
  const expect = (word: string) => {
    if (!keyword(word)) throw malformed(soql, peek()?.pos ?? soql.length, `unexpected token: '${peek()?.text ?? "<EOF>"}'`);
    at++;
  };
  const take = (): Token => {
    const token = tokens[at++];
    if (!token) throw malformed(soql, soql.length, "unexpected end of query");
    return token;
  };

  expect("SELECT");
  const fields: string[] = [];
  let count = false;
  for (;;) {
    const token = take();
    if (token.kind !== "word") throw malformed(soql, token.pos, `unexpected token: '${token.text}'`);
    if (token.text.toLowerCase() === "count" && peek()?.text === "(") {
      take();
      if (take().text !== ")") throw malformed(soql, token.pos, "expecting ')'");
      count = true;
    } else fields.push(token.text);
    if (peek()?.text !== ",") break;
    at++;
  }
  expect("FROM");
  const objectToken = take();
  const query: SoqlQuery = { fields, count, object: objectToken.text, where: undefined, orderBy: [], limit: undefined };

  const literal = (): Literal => {
    const token = take();
    if (token.kind === "string") return token.text;
    if (token.kind === "number") return Number(token.text);
    if (token.kind === "datetime") return { datetime: Date.parse(token.text.replace(/([+-]\d{2})(\d{2})$/, "$1:$2")) };
    if (token.kind === "word" && /^(true|false|null)$/i.test(token.text)) return token.text.toLowerCase() === "null" ? null : token.text.toLowerCase() === "true";
    throw malformed(soql, token.pos, `unexpected token: '${token.text}'`);
  };

  const condition = (): WhereExpr => {
    const fieldToken = take();
    if (fieldToken.kind !== "word") throw malformed(soql, fieldToken.pos, `unexpected token: '${fieldToken.text}'`);
    let op: Condition["op"];
    if (keyword("NOT")) {
      at++;
      expect("IN");
      op = "NOT IN";
    } else if (keyword("IN")) {
      at++;
      op = "IN";
    } else if (keyword("LIKE")) {
      at++;
      op = "LIKE";
    } else {
      const opToken = take();
      if (!["=", "!=", "<", ">", "<=", ">="].includes(opToken.text)) throw malformed(soql, opToken.pos, `unexpected token: '${opToken.text}'`);
      op = opToken.text as Condition["op"];
    }
    let value: Literal | Literal[];
    if (op === "IN" || op === "NOT IN") {
      if (take().text !== "(") throw malformed(soql, fieldToken.pos, "expecting '('");
      const list: Literal[] = [];
      for (;;) {
        list.push(literal());
        const sep = take();
        if (sep.text === ")") break;
        if (sep.text !== ",") throw malformed(soql, sep.pos, `unexpected token: '${sep.text}'`);
      }
      value = list;
    } else value = literal();
    return { kind: "condition", condition: { field: fieldToken.text, op, value } };
  };
  // precedence as in SOQL: NOT binds tightest, then AND, then OR
  const factor = (): WhereExpr => {
    if (keyword("NOT")) {
      at++;
      return { kind: "not", item: factor() };
    }
    if (peek()?.text === "(") {
      at++;
      const inner = disjunction();
      const close = take();
      if (close.text !== ")") throw malformed(soql, close.pos, "expecting ')'");
      return inner;
    }
    return condition();
  };
  const conjunction = (): WhereExpr => {
    const items = [factor()];
    while (keyword("AND")) {
      at++;
      items.push(factor());
    }
    return items.length === 1 ? (items[0] as WhereExpr) : { kind: "and", items };
  };
  const disjunction = (): WhereExpr => {
    const items = [conjunction()];
    while (keyword("OR")) {
      at++;
      items.push(conjunction());
    }
    return items.length === 1 ? (items[0] as WhereExpr) : { kind: "or", items };
  };

  if (keyword("WHERE")) {
    at++;
    query.where = disjunction();
  }
  if (keyword("ORDER")) {
    at++;
    expect("BY");
    for (;;) {
      const fieldToken = take();
      let descending = false;
      if (keyword("ASC")) at++;
      else if (keyword("DESC")) {
        at++;
        descending = true;
      }
      if (keyword("NULLS")) at += 2;
      query.orderBy.push({ field: fieldToken.text, descending });
      if (peek()?.text !== ",") break;
      at++;
    }
  }
  if (keyword("LIMIT")) {
    at++;
    const n = take();
    if (n.kind !== "number") throw malformed(soql, n.pos, `unexpected token: '${n.text}'`);
    query.limit = Number(n.text);
  }
  if (at < tokens.length) {
    const extra = tokens[at] as Token;
    throw malformed(soql, extra.pos, `unexpected token: '${extra.text}'`);
  }
  return query;
}
