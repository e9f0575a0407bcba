/**
 * `pnpm start`: the whole pipeline on one machine.
 * Migrations → (sandbox mode) the HubSpot sandbox + a demo integration → receiver + API + Bull Board on PORT → workers.
 */
import { createLogger, loadConfigOrExit } from "@leadsync/config";
import { runPipeline } from "./pipeline.js";
import { printBanner } from "./banner.js";
import { StartupError } from "./preflight.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ name: "leadsync", level: config.logLevel });

  let pipeline: Awaited<ReturnType<typeof runPipeline>>;
  try {
    pipeline = await runPipeline({ config, logger });
  } catch (error) {
    if (error instanceof StartupError) {
      console.error(`\n✖ ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  printBanner(pipeline.summary);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `Shutting down (${signal})`);
    // A hung close must not keep the process alive forever.
    const deadline = setTimeout(() => {
      logger.error("Shutdown took longer than 15 s; exiting");
      process.exit(1);
    }, 15_000);
    deadline.unref();
    pipeline
      .close()
      .then(() => {
        // A signal-initiated clean shutdown is a success: exit 0, so pnpm reports no failure.
        logger.info("LeadSync stopped");
        // Flushed before exiting: an asynchronous write still in flight could otherwise land after this line.
        logger.flush(() => process.exit(0));
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, "Shutdown failed");
        process.exit(1);
      });
  };
  // Once the shutdown has closed the Redis connections, a command still in flight (a worker's or a feed scan's, right
  // after startup) rejects with ioredis' "Connection is closed." and nobody awaits it: that is the shutdown itself,
  // not a failure, so it must not crash the process into exit 1. Any other unhandled rejection still does.
  process.on("unhandledRejection", (reason: unknown) => {
    if (stopping && reason instanceof Error && reason.message === "Connection is closed.") {
      logger.debug({ err: reason }, "A Redis command in flight ended with the shutdown");
      return;
    }
    logger.fatal({ err: reason }, "Unhandled rejection");
    logger.flush(() => process.exit(1));
  });
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
