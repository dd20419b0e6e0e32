import { getConnInfo, handle } from "hono/aws-lambda";
import { createLogger, type Logger } from "../shared/log.js";
import { createApp } from "./app.js";
import { loadFunctionsConfig, type FunctionsConfig } from "./config.js";
import { apigwTransport, buildDeps } from "./deps.js";

/**
 * The HTTP API on AWS Lambda (API Gateway HTTP API, payload v2): the native API and the AWS KMS
 * protocol, the same app as the Node server, reaching connectors through the `apigw` transport.
 */
export function createHttpHandler(config: FunctionsConfig, log: Logger) {
  const deps = buildDeps(config, log, apigwTransport(config, log));
  return handle(createApp(deps, (c) => getConnInfo(c).remote.address));
}

const config = loadFunctionsConfig();
/** Built at module load (Lambda's init phase), once per instance. */
export const handler = createHttpHandler(config, createLogger({ name: "functions", level: config.logLevel }));
