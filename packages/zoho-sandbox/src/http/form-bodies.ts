import type { FastifyInstance } from "fastify";
import { parse as parseQuery } from "node:querystring";

/**
 * Zoho Accounts takes its parameters in the query, a urlencoded form or a multipart form (Zoho's own Node SDK
 * posts `multipart/form-data`); text fields only.
 */
export function installFormParsers(app: FastifyInstance): void {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, parseQuery(body as string)));
  app.addContentTypeParser("multipart/form-data", { parseAs: "string" }, (request, body, done) => {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(request.headers["content-type"] ?? "");
    const marker = boundary?.[1] ?? boundary?.[2];
    if (!marker) return done(null, {});
    const fields: Record<string, string> = {};
    for (const part of (body as string).split(`--${marker}`)) {
      const match = /name="([^"]+)"[^]*?\r\n\r\n([^]*?)\r\n$/.exec(part);
      if (match?.[1] !== undefined) fields[match[1]] = match[2] ?? "";
    }
    return done(null, fields);
  });
  // Zoho's Node SDK posts JSON bodies without a content type; Zoho reads them as JSON
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === "") return done(null, undefined);
    try {
      return done(null, JSON.parse(text));
    } catch {
      return done(Object.assign(new Error("body is not JSON"), { statusCode: 400 }), undefined);
    }
  });
}
