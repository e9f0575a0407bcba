import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { apiContext } from "../http/api-guard.js";
import { SalesforceError } from "../http/errors.js";
import { QueryCursors } from "../soql/cursors.js";
import { runQuery } from "../soql/execute.js";
import { parseSoql } from "../soql/parse.js";
import { KEY_PREFIX } from "../state/ids.js";
import type { FieldDef } from "../state/lead-fields.js";
import type { SandboxState } from "../state/sandbox-state.js";
import type { SObjectName, SObjectRecord } from "../state/records.js";
import { recordJson } from "./serialize.js";

const DEFAULT_BATCH = 2000;
const MIN_BATCH = 200;

/** `Sforce-Query-Options: batchSize=n` (200–2000; Salesforce may return more or fewer, the sandbox returns exactly n). */
function batchSize(request: FastifyRequest): number {
  const match = /batchSize\s*=\s*(\d+)/i.exec(String(request.headers["sforce-query-options"] ?? ""));
  if (!match) return DEFAULT_BATCH;
  return Math.min(DEFAULT_BATCH, Math.max(MIN_BATCH, Number(match[1])));
}

/** `query` and `queryAll` with the SOQL subset of soql/parse.ts, paged through `nextRecordsUrl`. */
export const queryRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  const cursors = new QueryCursors(() => state.nextId(KEY_PREFIX.QueryLocator));

  const page = (type: SObjectName, version: string, resource: string, locator: string | undefined, ids: string[], select: FieldDef[], offset: number, size: number, lookup: (id: string) => SObjectRecord | undefined) => {
    const slice = ids.slice(offset, offset + size);
    const done = offset + slice.length >= ids.length;
    if (done && locator) cursors.close(locator);
    return {
      totalSize: ids.length,
      done,
      ...(!done && locator && { nextRecordsUrl: `/services/data/v${version}/${resource}/${locator}-${offset + slice.length}` }),
      records: slice.map((id) => {
        const record = lookup(id);
        return record ? recordJson(type, record, version, select) : { attributes: { type }, Id: id };
      }),
    };
  };

  for (const resource of ["query", "queryAll"] as const) {
    app.get<{ Querystring: { q?: string } }>(`/services/data/:version/${resource}`, async (request) => {
      const { org, version } = apiContext(request);
      const soql = request.query.q;
      if (!soql) throw new SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified");
      const query = parseSoql(soql);
      const { type, select, records } = runQuery(org, soql, query, resource === "queryAll");
      if (query.count) return { totalSize: records.length, done: true, records: [] };
      const ids = records.map((r) => String(r["Id"]));
      const size = batchSize(request);
      const locator = ids.length > size ? cursors.open(org.orgId, type, ids, select) : undefined;
      return page(type, version, resource, locator, ids, select, 0, size, (id) => org.store(type).get(id));
    });

    app.get<{ Params: { cursor: string } }>(`/services/data/:version/${resource}/:cursor`, async (request) => {
      const { org, version } = apiContext(request);
      const match = /^(.+)-(\d+)$/.exec(request.params.cursor);
      const cursor = match ? cursors.get(org.orgId, match[1] as string) : undefined;
      if (!match || !cursor) throw new SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
      return page(cursor.type, version, resource, match[1], cursor.ids, cursor.select, Number(match[2]), batchSize(request), (id) => org.store(cursor.type).get(id));
    });
  }
};
