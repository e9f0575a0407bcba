import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type ApiHarness } from "./helpers.js";

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

describe("POST /api/v1/leads under concurrency", () => {
  it("creates a new org's first leads posted at once (201 each) in one default form", async () => {
    const org = "org-first-burst";
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api.call(org, "POST", "/api/v1/leads", { email: `first-${i}@example.com` })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array.from({ length: 20 }, () => 201));
    const forms = await api.db.prisma.form.findMany({ where: { orgId: org } });
    expect(forms).toHaveLength(1);
    expect(new Set(responses.map((r) => r.json().data.formId))).toEqual(new Set([forms[0]?.id]));
  });
});
