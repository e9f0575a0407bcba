import { startSalesforceSandbox } from "../../../packages/salesforce-sandbox/src/index.js";
import { eventually, type LeadFieldsInput, type RecordView } from "../harness.js";
import type { ProviderKit } from "../kit.js";

const FIELD_OF: Record<keyof LeadFieldsInput, string> = {
  email: "Email",
  firstName: "FirstName",
  lastName: "LastName",
  phone: "Phone",
  company: "Company",
  jobTitle: "Title",
};

function leadBody(fields: LeadFieldsInput): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) if (value !== undefined) body[FIELD_OF[field as keyof LeadFieldsInput]] = value;
  return body;
}

export const salesforceKit: ProviderKit = {
  name: "salesforce",
  echoesNamedByFeed: true,
  async start() {
    const sandbox = await startSalesforceSandbox({ port: 0, grpcPort: 0 });
    return {
      url: sandbox.url,
      env: {
        SALESFORCE_LOGIN_URL: sandbox.url,
        SALESFORCE_PUBSUB_URL: `grpc://${sandbox.grpcUrl ?? ""}`,
        SALESFORCE_CLIENT_ID: sandbox.state.options.clientId,
        SALESFORCE_CLIENT_SECRET: sandbox.state.options.clientSecret,
      },
      // The worker subscribes within a lease scan after enable-webhooks; the suite starts once it has.
      async feedReady({ integrationId, logs }) {
        await eventually(async () => logs.some((l) => l.msg === "Salesforce feed subscribed" && l["integrationId"] === integrationId), "the Salesforce feed subscription");
      },
      close: () => sandbox.close(),
    };
  },
  // A person creating a lead in Salesforce's UI must fill the required LastName and Company.
  createBody: (fields) => ({ LastName: "(none)", Company: "(none)", ...leadBody(fields) }),
  updateBody: leadBody,
  readRecords(json) {
    return (json as Record<string, unknown>[]).map((r): RecordView => {
      const view: RecordView = { id: String(r["Id"]), marker: typeof r["Lead_Source_System__c"] === "string" ? (r["Lead_Source_System__c"] as string) : null };
      for (const [field, name] of Object.entries(FIELD_OF)) {
        const value = r[name];
        if (typeof value === "string") view[field as keyof LeadFieldsInput] = value;
      }
      return view;
    });
  },
};
