import { randomUUID } from "node:crypto";
import { createLogger } from "../shared/log.js";
import { loadFunctionsConfig } from "./config.js";
import { apigwTransport, buildDeps } from "./deps.js";
import type { SweepReport } from "./sweeper/service.js";

const config = loadFunctionsConfig();
const log = createLogger({ name: "sweeper", level: config.logLevel });
const deps = buildDeps(config, log, apigwTransport(config, log));

/** The scheduled sweeper (EventBridge): the event carries nothing it needs. */
export const handler = (): Promise<SweepReport> => deps.sweeper.run(() => ({ requestId: `sweep-${randomUUID()}`, deadline: Date.now() + config.requestTimeoutMs }));
