/// <reference path="../../.sst/platform/config.d.ts" />
import { manageConnections, tableAccess } from "./permissions";

export type TetherFunctions = { http: sst.aws.Function; hub: sst.aws.Function; sweeper: sst.aws.Function };

/**
 * The three Lambda functions (see functions/lambda*.ts). They share one configuration, given as
 * TETHER_* variables as on any other host; each gets only the IAM statements it uses.
 */
export function createFunctions(a: { table: sst.aws.Dynamo; connectors: sst.aws.ApiGatewayWebSocket; operatorTenant: sst.Secret; identityKey: sst.Secret }): TetherFunctions {
  const environment = {
    TETHER_STAGE: $app.stage === "prod" ? "prod" : $app.stage === "staging" ? "staging" : "dev",
    TETHER_REGION: aws.getRegionOutput().name,
    TETHER_TABLE: a.table.name,
    TETHER_HUB_ENDPOINT: a.connectors.managementEndpoint,
    TETHER_OPERATOR_TENANT: a.operatorTenant.value,
    // Lambda keeps an instance's memory only while it is warm: cache what one instance can use.
    TETHER_KEY_CACHE_ENTRIES: "20000",
    // Each request's deadline, well inside the HTTP function's timeout (29 s, API Gateway's own
    // limit); a request also never runs past its invocation's end (functions/http/request-id.ts).
    TETHER_REQUEST_TIMEOUT_MS: "5000",
  };
  // The functions' identity (certifies their requests to connectors): only the functions that call connectors get it.
  const callsConnectors = { environment: { ...environment, TETHER_FUNCTIONS_IDENTITY_KEY: a.identityKey.value } };
  const common = {
    runtime: "nodejs20.x" as const,
    architecture: "arm64" as const,
    environment,
    nodejs: { format: "esm" as const, minify: true },
    logging: { format: "json" as const, retention: "3 months" as const },
  };
  return {
    http: new sst.aws.Function("Http", {
      ...common,
      description: "Tether HTTP API: native API and AWS KMS protocol",
      ...callsConnectors,
      handler: "functions/lambda.handler",
      memory: "1024 MB",
      timeout: "29 seconds",
      permissions: [tableAccess(a.table, "http"), manageConnections(a.connectors)],
    }),
    hub: new sst.aws.Function("Hub", {
      ...common,
      description: "Tether connector hub: $connect, $default and $disconnect of the WebSocket API",
      handler: "functions/lambda-hub.handler",
      memory: "256 MB",
      timeout: "10 seconds",
      permissions: [tableAccess(a.table, "hub"), manageConnections(a.connectors)],
    }),
    sweeper: new sst.aws.Function("Sweeper", {
      ...common,
      description: "Tether sweeper: destruction after the deletion window, automatic rotation, expired grants and token keys",
      ...callsConnectors,
      handler: "functions/lambda-sweeper.handler",
      memory: "512 MB",
      timeout: "5 minutes",
      permissions: [tableAccess(a.table, "sweeper"), manageConnections(a.connectors)],
    }),
  };
}
