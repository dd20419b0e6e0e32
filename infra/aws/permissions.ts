/// <reference path="../../.sst/platform/config.d.ts" />

/**
 * Least-privilege IAM statements, one builder per capability, so each function gets exactly the
 * ones it uses (see functions.ts). Typechecked by `npm run typecheck:infra`; nothing is deployed here.
 */
type Statement = { actions: string[]; resources: $util.Input<string>[] };

/** Reads and writes of items (transactions are authorised per item action); listings on the table and its indexes. */
export const tableReadWrite = (table: sst.aws.Dynamo): Statement => ({
  actions: [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
  ],
  resources: [table.arn, $interpolate`${table.arn}/index/*`],
});

/** The connector hub's own items: connections and replies (no listings, no transactions). */
export const tableItems = (table: sst.aws.Dynamo): Statement => ({
  actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
  resources: [table.arn],
});

/** PostToConnection and DeleteConnection on the connectors' WebSocket API, and nothing else. */
export const manageConnections = (ws: sst.aws.ApiGatewayWebSocket): Statement => ({
  actions: ["execute-api:ManageConnections"],
  resources: [$interpolate`${ws.nodes.api.executionArn}/*/POST/@connections/*`, $interpolate`${ws.nodes.api.executionArn}/*/DELETE/@connections/*`],
});
