import { describe, expect, it } from "vitest";
import { contactToLeadFields, leadToContactProperties, normalizeEmail } from "../src/index.js";

describe("field mapping", () => {
  it("maps HubSpot properties to lead fields, lower-casing email and clearing blanks", () => {
    expect(
      contactToLeadFields({ email: " Ada@Example.COM ", firstname: "Ada", lastname: "", jobtitle: null, lifecyclestage: "lead" }),
    ).toEqual({ email: "ada@example.com", firstName: "Ada", lastName: null, jobTitle: null });
  });

  it("leaves out properties the contact does not carry", () => {
    expect(contactToLeadFields({ phone: "+1 555" })).toEqual({ phone: "+1 555" });
  });

  it("maps lead fields back, never blanking a CRM value with null", () => {
    expect(leadToContactProperties({ email: "a@b.co", firstName: "A", phone: null, company: "Acme" })).toEqual({
      email: "a@b.co",
      firstname: "A",
      company: "Acme",
    });
  });

  it("normalises emails", () => {
    expect(normalizeEmail("  X@Y.Z ")).toBe("x@y.z");
  });
});
