import type { PulledFeed } from "@leadsync/core";

/** Placeholder until the Pub/Sub client lands (sf-emulator branch). */
export const salesforcePulledFeed: PulledFeed = {
  async start() {
    throw new Error("Salesforce Pub/Sub feed not wired yet");
  },
};
