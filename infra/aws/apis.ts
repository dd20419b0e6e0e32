/// <reference path="../../.sst/platform/config.d.ts" />
import type { TetherFunctions } from "./functions";

/** The connectors' WebSocket API: created first, since the functions need its management endpoint. */
export const createConnectorApi = (): sst.aws.ApiGatewayWebSocket => new sst.aws.ApiGatewayWebSocket("Connectors");

/** Routes the WebSocket API's three routes to the hub function. */
export function routeConnectors(connectors: sst.aws.ApiGatewayWebSocket, fns: TetherFunctions): void {
  for (const route of ["$connect", "$disconnect", "$default"]) connectors.route(route, fns.hub.arn);
}

/** The HTTP API (payload v2): every path goes to the HTTP function, which routes it itself. */
export function createHttpApi(fns: TetherFunctions): sst.aws.ApiGatewayV2 {
  const api = new sst.aws.ApiGatewayV2("Api");
  api.route("$default", fns.http.arn);
  return api;
}

/** The sweeper, every five minutes. */
export const scheduleSweeper = (fns: TetherFunctions): sst.aws.CronV2 => new sst.aws.CronV2("Sweep", { schedule: "rate(5 minutes)", function: fns.sweeper.arn });
