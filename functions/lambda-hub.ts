import { createLogger } from "../shared/log.js";
import { loadFunctionsConfig } from "./config.js";
import { buildHubEvents } from "./deps.js";
import { createHubHandler } from "./tunnel/apigw-events.js";

const config = loadFunctionsConfig();
export const handler = createHubHandler(buildHubEvents(config, createLogger({ name: "hub", level: config.logLevel })));
