import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signDevToken } from "../src/dev-token.js";
import { startApi, TEST_JWT_SECRET, type ApiHarness } from "./helpers.js";

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

async function addIntegration(orgId: string, settings: { autoSyncEnabled?: boolean; syncDirection?: "to_crm" | "from_crm" | "bidirectional" } = {}) {
  return api.db.prisma.crmIntegration.create({
    data: { orgId, provider: "hubspot", externalAccountId: String(Math.floor(Math.random() * 1e9)), ...settings },
  });
}

async function outboundJobs() {
  return api.crmOutbound.getJobs(["waiting", "delayed", "active", "prioritized"]);
}

function hs256(payload: Record<string, unknown>, secret: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const head = `${part({ alg: "HS256", typ: "JWT" })}.${part(payload)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

describe("authentication on /api/v1", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, string | undefined][] = [
    ["no Authorization header", undefined],
    ["a malformed token", "Bearer not-a-jwt"],
    ["a token signed with another secret (forged)", `Bearer ${hs256({ orgId: "org-a", iat: now() }, "someone-elses-secret")}`],
    ["an expired token", `Bearer ${hs256({ orgId: "org-a", iat: now() - 7200, exp: now() - 3600 }, TEST_JWT_SECRET)}`],
    ["a token without orgId", `Bearer ${hs256({ sub: "x", iat: now() }, TEST_JWT_SECRET)}`],
    ["an unsigned (alg none) token", `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from('{"orgId":"org-a"}').toString("base64url")}.`],
  ];
  for (const [name, authorization] of cases) {
    it(`answers 401 for ${name}`, async () => {
      for (const url of ["/api/v1/leads", "/api/v1/crm-integration"]) {
        const res = await api.app.inject({ method: "GET", url, ...(authorization && { headers: { authorization } }) });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ success: false, error: { code: "unauthorized" } });
      }
    });
  }

  it("accepts the development token from signDevToken", async () => {
    const res = await api.app.inject({ method: "GET", url: "/api/v1/leads", headers: { authorization: `Bearer ${signDevToken(api.config, "org-a")}` } });
    expect(res.statusCode).toBe(200);
  });

  it("says which one is expired", async () => {
    const expired = hs256({ orgId: "org-a", exp: now() - 10 }, TEST_JWT_SECRET);
    const res = await api.app.inject({ method: "GET", url: "/api/v1/leads", headers: { authorization: `Bearer ${expired}` } });
    expect(res.json().error.message).toMatch(/expired/i);
  });
});

describe("POST /api/v1/leads", () => {
  it("still creates the lead when the org's remembered default form was deleted meanwhile: a new default form takes it", async () => {
    const first = await api.call("org-form-gone", "POST", "/api/v1/leads", { email: "first@example.com" });
    expect(first.statusCode).toBe(201);
    const oldFormId = first.json().data.formId as string;
    // Someone cleans up: the form and its leads go; this API process still remembers the form's id.
    await api.db.prisma.lead.deleteMany({ where: { formId: oldFormId } });
    await api.db.prisma.form.delete({ where: { id: oldFormId } });

    const next = await api.call("org-form-gone", "POST", "/api/v1/leads", { email: "next@example.com" });
    expect(next.statusCode).toBe(201);
    expect(next.json().data.formId).not.toBe(oldFormId);
    expect(await api.db.prisma.form.count({ where: { id: next.json().data.formId, orgId: "org-form-gone" } })).toBe(1);
  });

  it("creates a lead with the platform source, the org's default form and a normalised email", async () => {
    const res = await api.call("org-create", "POST", "/api/v1/leads", { email: "  Ada@Example.COM ", firstName: "Ada", company: "Analytical" });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      success: true,
      data: {
        id: expect.any(String),
        email: "ada@example.com",
        firstName: "Ada",
        lastName: null,
        phone: null,
        company: "Analytical",
        jobTitle: null,
        source: "jazzaam",
        formId: expect.any(String),
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        crm: [],
      },
    });
    const form = await api.db.prisma.form.findUniqueOrThrow({ where: { id: body.data.formId } });
    expect(form).toMatchObject({ orgId: "org-create", name: "Website", isCrmImport: false });

    const second = await api.call("org-create", "POST", "/api/v1/leads", { email: "grace@example.com" });
    expect(second.json().data.formId).toBe(body.data.formId);
  });

  it("answers 409 lead_exists for an email the org already has (any case)", async () => {
    await api.call("org-dup", "POST", "/api/v1/leads", { email: "dup@example.com" });
    const res = await api.call("org-dup", "POST", "/api/v1/leads", { email: "DUP@example.com" });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ success: false, error: { code: "lead_exists" } });
    // Another org may have the same email.
    expect((await api.call("org-dup-2", "POST", "/api/v1/leads", { email: "dup@example.com" })).statusCode).toBe(201);
  });

  it("answers 400 naming the field for a malformed email", async () => {
    const res = await api.call("org-v", "POST", "/api/v1/leads", { email: "not-an-email" });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe("validation_error");
    expect(error.details).toEqual([expect.objectContaining({ field: "email" })]);
    expect(error.message).toContain("email");
  });

  it("answers 400 naming an unknown field", async () => {
    const res = await api.call("org-v", "POST", "/api/v1/leads", { email: "x@example.com", favouriteColour: "blue" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([{ field: "favouriteColour", message: "unknown field" }]);
  });

  it("answers 400 naming a missing email", async () => {
    const res = await api.call("org-v", "POST", "/api/v1/leads", { firstName: "No email" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([expect.objectContaining({ field: "email" })]);
  });

  it("uses the given form of the org, and 404s another org's form or an unknown one", async () => {
    const own = await api.db.prisma.form.create({ data: { orgId: "org-forms", name: "Webinar" } });
    const other = await api.db.prisma.form.create({ data: { orgId: "org-other", name: "Webinar" } });
    const ok = await api.call("org-forms", "POST", "/api/v1/leads", { email: "w@example.com", formId: own.id });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().data.formId).toBe(own.id);
    for (const formId of [other.id, randomUUID()]) {
      const res = await api.call("org-forms", "POST", "/api/v1/leads", { email: `f-${formId}@example.com`, formId });
      expect(res.statusCode).toBe(404);
    }
    const bad = await api.call("org-forms", "POST", "/api/v1/leads", { email: "bad@example.com", formId: "nope" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe("formId");
  });
});

describe("outbound sync jobs", () => {
  beforeEach(async () => {
    await api.crmOutbound.drain(true);
  });

  it("queues exactly one job per pushing integration when auto-sync is on and bidirectional", async () => {
    const integration = await addIntegration("org-push", { autoSyncEnabled: true, syncDirection: "bidirectional" });
    const res = await api.call("org-push", "POST", "/api/v1/leads", { email: "push@example.com" });
    const jobs = await outboundJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.data).toEqual({ v: 1, integrationId: integration.id, leadId: res.json().data.id, reason: "created", requestedAt: expect.any(Number) });
  });

  it("queues one job per integration for to_crm too, and an 'updated' job on PATCH", async () => {
    const integration = await addIntegration("org-tocrm", { syncDirection: "to_crm" });
    const created = await api.call("org-tocrm", "POST", "/api/v1/leads", { email: "t@example.com" });
    await api.crmOutbound.drain(true);
    await api.call("org-tocrm", "PATCH", `/api/v1/leads/${created.json().data.id}`, { phone: "+1 555 0100" });
    const jobs = await outboundJobs();
    expect(jobs.map((j) => [j.data.integrationId, j.data.reason])).toEqual([[integration.id, "updated"]]);
  });

  it("queues nothing when the integration syncs from_crm only, or auto-sync is off", async () => {
    await addIntegration("org-nopush", { syncDirection: "from_crm" });
    await addIntegration("org-nopush", { autoSyncEnabled: false, syncDirection: "bidirectional" });
    const res = await api.call("org-nopush", "POST", "/api/v1/leads", { email: "np@example.com" });
    expect(res.statusCode).toBe(201);
    expect(await outboundJobs()).toHaveLength(0);
  });

  it("queues nothing for another org's integration", async () => {
    await addIntegration("org-elsewhere", { syncDirection: "bidirectional" });
    await api.call("org-alone", "POST", "/api/v1/leads", { email: "alone@example.com" });
    expect(await outboundJobs()).toHaveLength(0);
  });
});

describe("GET /api/v1/leads", () => {
  const org = "org-list";
  beforeAll(async () => {
    for (let i = 0; i < 7; i++) {
      await api.call(org, "POST", "/api/v1/leads", { email: `list${i}@example.com`, firstName: `L${i}` });
    }
    await api.db.prisma.lead.create({
      data: { orgId: org, email: "from-crm@example.com", source: "hubspot", formId: (await api.db.prisma.form.create({ data: { orgId: org, name: "CRM Import", isCrmImport: true } })).id },
    });
    await api.call("org-list-other", "POST", "/api/v1/leads", { email: "list0@example.com" });
  });

  it("pages through every lead of the org once, newest first, with nextCursor", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/leads?limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await api.call(org, "GET", url);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.success).toBe(true);
      seen.push(...body.data.map((l: { email: string }) => l.email));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
    expect(seen[0]).toBe("from-crm@example.com");
  });

  it("filters by email (normalised) and by source", async () => {
    const byEmail = (await api.call(org, "GET", "/api/v1/leads?email=LIST3@example.com")).json();
    expect(byEmail.data.map((l: { email: string }) => l.email)).toEqual(["list3@example.com"]);
    expect(byEmail.nextCursor).toBeNull();
    const bySource = (await api.call(org, "GET", "/api/v1/leads?source=hubspot")).json();
    expect(bySource.data.map((l: { email: string }) => l.email)).toEqual(["from-crm@example.com"]);
  });

  it("rejects a forged cursor and unknown query parameters with 400", async () => {
    expect((await api.call(org, "GET", "/api/v1/leads?cursor=garbage")).statusCode).toBe(400);
    const res = await api.call(org, "GET", "/api/v1/leads?sort=asc");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([{ field: "sort", message: "unknown field" }]);
  });
});

describe("GET and PATCH /api/v1/leads/:id", () => {
  it("returns the lead with its CRM links", async () => {
    const lead = (await api.call("org-get", "POST", "/api/v1/leads", { email: "g@example.com" })).json().data;
    const integration = await addIntegration("org-get", { syncDirection: "from_crm" });
    await api.db.prisma.leadCrmLink.create({ data: { leadId: lead.id, integrationId: integration.id, provider: "hubspot", externalId: "501" } });
    const res = await api.call("org-get", "GET", `/api/v1/leads/${lead.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.crm).toEqual([{ provider: "hubspot", integrationId: integration.id, externalId: "501" }]);
  });

  it("updates only the given fields, clears with null, normalises email", async () => {
    const lead = (await api.call("org-patch", "POST", "/api/v1/leads", { email: "p@example.com", firstName: "P", lastName: "Q" })).json().data;
    const res = await api.call("org-patch", "PATCH", `/api/v1/leads/${lead.id}`, { lastName: null, jobTitle: "CTO", email: "P2@Example.com" });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ email: "p2@example.com", firstName: "P", lastName: null, jobTitle: "CTO" });
    const row = await api.db.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } });
    expect(Object.keys(row.fieldVersions as object).sort()).toEqual(["email", "firstName", "jobTitle", "lastName"]);
  });

  it("answers 409 when the new email belongs to another lead of the org, 400 for bad fields", async () => {
    await api.call("org-patch2", "POST", "/api/v1/leads", { email: "taken@example.com" });
    const lead = (await api.call("org-patch2", "POST", "/api/v1/leads", { email: "mine@example.com" })).json().data;
    expect((await api.call("org-patch2", "PATCH", `/api/v1/leads/${lead.id}`, { email: "taken@example.com" })).statusCode).toBe(409);
    const bad = await api.call("org-patch2", "PATCH", `/api/v1/leads/${lead.id}`, { email: "x", source: "hubspot" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { field: string }) => d.field).sort()).toEqual(["email", "source"]);
  });

  it("answers 404 for another org's lead on GET and PATCH, and leaves it unchanged", async () => {
    const lead = (await api.call("org-owner", "POST", "/api/v1/leads", { email: "owned@example.com" })).json().data;
    expect((await api.call("org-intruder", "GET", `/api/v1/leads/${lead.id}`)).statusCode).toBe(404);
    const patch = await api.call("org-intruder", "PATCH", `/api/v1/leads/${lead.id}`, { firstName: "Mallory" });
    expect(patch.statusCode).toBe(404);
    expect(patch.json()).toMatchObject({ success: false, error: { code: "not_found" } });
    expect((await api.db.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } })).firstName).toBeNull();
    const list = (await api.call("org-intruder", "GET", "/api/v1/leads?email=owned@example.com")).json();
    expect(list.data).toEqual([]);
  });

  it("answers 404 for an unknown id and 400 naming id for a malformed one", async () => {
    expect((await api.call("org-get", "GET", `/api/v1/leads/${randomUUID()}`)).statusCode).toBe(404);
    const res = await api.call("org-get", "GET", "/api/v1/leads/123");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe("id");
  });
});
