import { startSalesforceSandbox, type SalesforceSandbox } from "../../../packages/salesforce-sandbox/src/index.js";
import { eventually } from "../../providers/harness.js";
import type { ProviderKit } from "../../providers/kit.js";
import { salesforceKit } from "../../providers/kits/salesforce.js";

/**
 * The shared provider suite's Salesforce kit (test/providers/kits/salesforce.ts: same record bodies, same env),
 * with the emulator itself kept reachable, so a test can count the sessions it issued.
 */
export function salesforceKitWithSandbox(): { kit: ProviderKit; sandbox(): SalesforceSandbox } {
  let running: SalesforceSandbox | undefined;
  const kit: ProviderKit = {
    ...salesforceKit,
    async start() {
      const sandbox = await startSalesforceSandbox({ port: 0, grpcPort: 0 });
      running = sandbox;
      return {
        url: sandbox.url,
        env: {
          SALESFORCE_LOGIN_URL: sandbox.url,
          SALESFORCE_PUBSUB_URL: `grpc://${sandbox.grpcUrl ?? ""}`,
          SALESFORCE_CLIENT_ID: sandbox.state.options.clientId,
          SALESFORCE_CLIENT_SECRET: sandbox.state.options.clientSecret,
        },
        async feedReady({ integrationId, logs }) {
          await eventually(async () => logs.some((l) => l.msg === "Salesforce feed subscribed" && l["integrationId"] === integrationId), "the Salesforce feed subscription");
        },
        close: () => sandbox.close(),
      };
    },
  };
  return {
    kit,
    sandbox() {
      if (!running) throw new Error("the Salesforce emulator has not started");
      return running;
    },
  };
}
