import { runMain } from "../shared/config.js";
import { createLogger } from "../shared/log.js";
import { loadFunctionsConfig } from "./config.js";
import { startServer } from "./server.js";

await runMain("tether-functions", async () => {
  const config = loadFunctionsConfig();
  const log = createLogger({ name: "functions", level: config.logLevel });
  const server = await startServer(config, log);
  log.info("listening", { url: server.url, stage: config.stage });
  const stop = (signal: string) => {
    log.info("stopping", { signal });
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
});
