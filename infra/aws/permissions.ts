/// <reference path="../../.sst/platform/config.d.ts" />

/**
 * Least-privilege IAM statements, one builder per capability, so each function gets exactly the
 * ones it uses (see functions.ts). Typechecked by `npm run typecheck:infra`; nothing is deployed here.
 */
import type { LambdaName } from "./bundle";
import { TABLE_ACTIONS } from "./iam-actions";

type Statement = { actions: string[]; resources: $util.Input<string>[] };

/** A function's DynamoDB actions (iam-actions.ts) on the table, and on its indexes for those that list. */
export const tableAccess = (table: sst.aws.Dynamo, fn: LambdaName): Statement => ({
  actions: [...TABLE_ACTIONS[fn]],
  resources: TABLE_ACTIONS[fn].includes("dynamodb:Query") ? [table.arn, $interpolate`${table.arn}/index/*`] : [table.arn],
});

/** PostToConnection and DeleteConnection on the connectors' WebSocket API, and nothing else. */
export const manageConnections = (ws: sst.aws.ApiGatewayWebSocket): Statement => ({
  actions: ["execute-api:ManageConnections"],
  resources: [$interpolate`${ws.nodes.api.executionArn}/*/POST/@connections/*`, $interpolate`${ws.nodes.api.executionArn}/*/DELETE/@connections/*`],
});
