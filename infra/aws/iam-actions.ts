import type { LambdaName } from "./bundle.js";

/**
 * The DynamoDB actions each Lambda function is granted (plain data, no SST types, so that the
 * test suite checks them against what each function really calls: see
 * test/integration/serverless.test.ts). permissions.ts turns these into IAM statements.
 */

/** Reads and writes of items (transactions are authorised per item action), batch writes (the audit chain registry), listings. */
export const TABLE_READ_WRITE = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DescribeTable",
] as const;

/** The connector hub's own items: connections and replies (no listings, no transactions). */
export const HUB_ITEMS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"] as const;

export const TABLE_ACTIONS: Record<LambdaName, readonly string[]> = { http: TABLE_READ_WRITE, hub: HUB_ITEMS, sweeper: TABLE_READ_WRITE };
