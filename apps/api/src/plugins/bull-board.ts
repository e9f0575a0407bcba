import { timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export const BULL_BOARD_PATH = "/admin/queues";
/** The challenge makes a browser show its login prompt (and send the credentials it was given). */
export const BULL_BOARD_CHALLENGE = 'Basic realm="LeadSync operators", charset="UTF-8"';

export interface BullBoardOptions {
  credentials: { user: string; password: string };
  queues: Queue[];
}

/** Constant-time string comparison (lengths are not secret; contents are). */
function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The user and password of an `Authorization: Basic …` header, or undefined. */
function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Bull Board behind HTTP basic auth. Registered without fastify-plugin on purpose: the auth hook stays inside this
 * scope and covers the dashboard's pages, static files and API, nothing else. The hook answers the refusal itself,
 * in the API's error shape: a thrown error would reach Bull Board's own error handler, which answers a 500-style body.
 */
export default async function bullBoardPlugin(app: FastifyInstance, { credentials, queues }: BullBoardOptions) {
  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    const given = basicCredentials(request.headers.authorization);
    // Both comparisons run, so the time taken does not say which one failed.
    const userOk = given !== undefined && safeEqual(given.user, credentials.user);
    const passwordOk = given !== undefined && safeEqual(given.password, credentials.password);
    if (userOk && passwordOk) return;
    request.log.info({ statusCode: 401 }, "Operator login required");
    return reply
      .code(401)
      .header("www-authenticate", BULL_BOARD_CHALLENGE)
      .send({ success: false, error: { code: "unauthorized", message: "Operator login required" } });
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: "LeadSync queues" } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
}
