import { timingSafeEqual } from "node:crypto";
import fastifyBasicAuth from "@fastify/basic-auth";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import { UnauthorizedError } from "../errors.js";

export const BULL_BOARD_PATH = "/admin/queues";

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

/**
 * Bull Board behind HTTP basic auth. Registered without fastify-plugin on purpose: the auth hook stays inside this
 * scope and covers the dashboard's pages, static files and API, nothing else.
 */
export default async function bullBoardPlugin(app: FastifyInstance, { credentials, queues }: BullBoardOptions) {
  await app.register(fastifyBasicAuth, {
    // The challenge header makes browsers show their login prompt (and send the credentials they were given).
    authenticate: { realm: "LeadSync operators" },
    validate: async (user, password) => {
      const userOk = safeEqual(user, credentials.user);
      const passwordOk = safeEqual(password, credentials.password);
      if (!userOk || !passwordOk) throw new UnauthorizedError("Operator login required");
    },
  });
  app.addHook("onRequest", app.basicAuth);

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: "LeadSync queues" } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
}
