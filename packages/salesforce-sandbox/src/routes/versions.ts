import type { FastifyPluginAsync } from "fastify";
import { MIN_API_VERSION } from "../http/api-guard.js";

/** The newest API version the sandbox lists (any version ≥ 44.0 is served). */
export const LATEST_API_VERSION = 66;

/** `GET /services/data/`: the version list; no session needed and, as in Salesforce, no Sforce-Limit-Info. */
export const versionRoutes: FastifyPluginAsync = async (app) => {
  const list = async () => {
    const versions = [];
    for (let v = MIN_API_VERSION; v <= LATEST_API_VERSION; v++) versions.push({ label: `v${v}.0`, url: `/services/data/v${v}.0`, version: `${v}.0` });
    return versions;
  };
  app.get("/services/data", list);
  app.get("/services/data/", list);
};
