import { normalizeEmail } from "@leadsync/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { BadRequestError } from "../../errors.js";
import { authErrors, bearerSecurity } from "../../schemas.js";
import { leadInclude, leadJson, toLeadJson } from "../../leads/lead-json.js";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;

/** Keyset cursor: the (createdAt, id) of the last lead of the page; newest first, id breaks ties. */
interface Cursor {
  createdAt: Date;
  id: string;
}

const cursorShape = z.object({ c: z.iso.datetime(), i: z.uuid() });

export function encodeCursor(lead: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ c: lead.createdAt.toISOString(), i: lead.id })).toString("base64url");
}

function decodeCursor(cursor: string): Cursor {
  try {
    const parsed = cursorShape.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return { createdAt: new Date(parsed.c), id: parsed.i };
  } catch {
    throw new BadRequestError("invalid_cursor", "cursor is not a value returned as nextCursor", [
      { field: "cursor", message: "invalid cursor" },
    ]);
  }
}

const listLeads: FastifyPluginAsyncZod<ApiDeps> = async (app, { prisma }) => {
  app.get(
    "", // the collection itself: /api/v1/<resource>, no trailing slash
    {
      schema: {
        tags: ["leads"],
        summary: "List the organisation's leads, newest first",
        security: bearerSecurity,
        querystring: z.strictObject({
          email: z.string().max(320).optional(),
          source: z.string().max(100).optional(),
          cursor: z.string().max(500).optional(),
          limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
        }),
        response: {
          200: z.object({ success: z.literal(true), data: z.array(leadJson), nextCursor: z.string().nullable() }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { email, source, cursor, limit } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const rows = await prisma.lead.findMany({
        where: {
          orgId: request.user.orgId,
          ...(email !== undefined && { email: normalizeEmail(email) }),
          ...(source !== undefined && { source }),
          // (createdAt, id) < the cursor's. The plain bound on createdAt lets Postgres start the index scan at the
          // cursor; the OR alone is only a filter, and a deep page would walk every newer lead to get there.
          ...(after && {
            createdAt: { lte: after.createdAt },
            OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
          }),
        },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: limit + 1,
        include: leadInclude,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        success: true as const,
        data: page.map(toLeadJson),
        nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
      };
    },
  );
};

export default listLeads;
