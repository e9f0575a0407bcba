import { ensureCrmImportForm } from "@leadsync/db";
import { createExplainingPrisma, scansAndSorts, sharedBuffers, type CapturedPlan, type ExplainingPrisma } from "@leadsync/db/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyLeads, seedCreatedAt, seedLeadId, type SeedOrg } from "../../../test/helpers/seed-leads.js";
import { encodeCursor } from "../src/routes/leads/list-leads.js";
import { startApi, type ApiHarness } from "./helpers.js";

/**
 * `GET /api/v1/leads` must cost the same whatever the size of the org (issue #13, bench growth): its queries, as
 * Postgres plans them on a seeded table (two orgs, 20,000 leads each, analysed), read neither the table whole nor
 * sort the org's leads, and a page deep in the list costs what the first page costs. The plans are the real ones of
 * the route's SQL (auto_explain on the app's own connections).
 */

const PER_ORG = 20_000;
/** A page of 51 rows and their links: an index probe and a heap page or two per row, however many leads the org has. */
const MAX_BUFFERS_PER_STATEMENT = 300;
const BIG_TABLES = ["leads", "lead_crm_links"];

let api: ApiHarness;
let explaining: ExplainingPrisma;
let org: SeedOrg;

beforeAll(async () => {
  api = await startApi({}, {
    prismaFor: (url) => {
      explaining = createExplainingPrisma(url);
      return explaining.prisma;
    },
  });
  const orgs: SeedOrg[] = [];
  for (const [index, orgId] of ["plans-org-a", "plans-org-b"].entries()) {
    const integration = await api.db.prisma.crmIntegration.create({ data: { orgId, provider: "hubspot", externalAccountId: String(7_000 + index) } });
    const form = await ensureCrmImportForm(api.db.prisma, orgId);
    orgs.push({ index, orgId, formId: form.id, integrationId: integration.id, accountId: integration.externalAccountId });
  }
  org = orgs[0] as SeedOrg;
  const client = new pg.Client({ connectionString: api.db.url });
  await client.connect();
  try {
    for (const o of orgs) await copyLeads(client, o, { from: 0, to: PER_ORG });
    await client.query("VACUUM ANALYZE leads, lead_crm_links, webhook_events");
  } finally {
    await client.end();
  }
}, 120_000);

afterAll(async () => {
  await api?.close();
});

/** The plans of one request's statements that read leads or their links. */
async function plansOf(url: string): Promise<CapturedPlan[]> {
  explaining.take();
  const response = await api.call(org.orgId, "GET", url);
  expect(response.statusCode).toBe(200);
  expect(response.json().data).toHaveLength(50);
  const plans = explaining.take().filter((p) => /\b(leads|lead_crm_links)\b/.test(p.query));
  expect(plans.length).toBeGreaterThan(0);
  return plans;
}

function expectFlat(plans: CapturedPlan[]): void {
  for (const { query, plan } of plans) {
    expect(scansAndSorts(plan, BIG_TABLES), query).toEqual([]);
    expect(sharedBuffers(plan), query).toBeLessThanOrEqual(MAX_BUFFERS_PER_STATEMENT);
  }
}

describe("GET /api/v1/leads on a large org: index scans, no sort, a deep page as cheap as the first", () => {
  const middle = () => encodeCursor({ createdAt: seedCreatedAt(PER_ORG / 2), id: seedLeadId(org, PER_ORG / 2) });

  it("the first page", async () => {
    expectFlat(await plansOf("/api/v1/leads"));
  });

  it("a page in the middle of the list (its cursor), reading no more than the first page", async () => {
    const leadsBuffers = (plans: CapturedPlan[]) => sharedBuffers((plans.find((p) => /FROM "public"."leads"/.test(p.query)) as CapturedPlan).plan);
    const first = leadsBuffers(await plansOf("/api/v1/leads"));
    const plans = await plansOf(`/api/v1/leads?cursor=${middle()}`);
    expectFlat(plans);
    expect(leadsBuffers(plans)).toBeLessThanOrEqual(2 * first + 10);
  });

  it("the first and a middle page of one source", async () => {
    expectFlat(await plansOf("/api/v1/leads?source=jazzaam"));
    expectFlat(await plansOf(`/api/v1/leads?source=jazzaam&cursor=${middle()}`));
  });

  it("the page after a cursor starts right after it (newest first)", async () => {
    const response = await api.call(org.orgId, "GET", `/api/v1/leads?limit=3&cursor=${middle()}`);
    const emails = (response.json().data as { email: string }[]).map((l) => l.email);
    expect(emails).toEqual([PER_ORG / 2 - 1, PER_ORG / 2 - 2, PER_ORG / 2 - 3].map((n) => `lead-${n}@org0.example.com`));
  });
});
