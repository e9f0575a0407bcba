import fastifyJwt from "@fastify/jwt";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { UnauthorizedError } from "../errors.js";

/** The platform's JWT claims: `orgId` scopes every query of the platform API. */
export interface PlatformClaims {
  orgId: string;
}

declare module "@fastify/jwt" {
  interface FastifyJWT {
    payload: PlatformClaims;
    user: PlatformClaims;
  }
}

declare module "fastify" {
  interface FastifyInstance {
    /** onRequest hook for routes that need a platform JWT; sets `request.user.orgId`. */
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
}

const EXPIRED_CODE = "FST_JWT_AUTHORIZATION_TOKEN_EXPIRED";

async function authPlugin(app: FastifyInstance, opts: { jwtSecret: string }) {
  await app.register(fastifyJwt, {
    secret: opts.jwtSecret,
    sign: { algorithm: "HS256" },
    // Only HS256: a token signed with another algorithm (or "none") is forged, whatever its claims say.
    // cache: the platform's backend sends the same token with every call; a verified token is remembered (never
    // past its expiry) instead of being checked again.
    verify: { algorithms: ["HS256"], cache: true },
  });

  app.decorate("authenticate", async (request: FastifyRequest) => {
    if (!request.headers.authorization) throw new UnauthorizedError("Missing Authorization: Bearer <token> header");
    let claims: unknown;
    try {
      claims = await request.jwtVerify();
    } catch (error) {
      const expired = (error as { code?: string }).code === EXPIRED_CODE;
      throw new UnauthorizedError(expired ? "Token expired" : "Invalid token");
    }
    const orgId = (claims as { orgId?: unknown }).orgId;
    if (typeof orgId !== "string" || orgId.length === 0) throw new UnauthorizedError("Token has no orgId claim");
  });
}

export default fp(authPlugin, { name: "leadsync-auth", fastify: "5.x" });
