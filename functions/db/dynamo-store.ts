import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeadlineHttpHandler, translateFaults } from "./deadlines.js";

export type DynamoOptions = {
  region: string;
  endpoint?: string | undefined;
  /** How long one call may take when it runs under no request's deadline (see functions/deadline.ts). */
  timeoutMs?: number;
};

/**
 * One DynamoDB client per process; DynamoDB Local accepts any credentials. Every call is bounded
 * by its request's deadline and fails with Tether's dependency errors (see deadlines.ts).
 */
export function createDynamoClient(o: DynamoOptions): DynamoDBClient {
  const client = new DynamoDBClient({
    region: o.region,
    ...(o.endpoint
      ? { endpoint: o.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: 2,
    requestHandler: new DeadlineHttpHandler("DynamoDB", o.timeoutMs ?? 5_000),
  });
  translateFaults(client, "DynamoDB");
  return client;
}

/** Answers when the table is reachable and active; throws otherwise. */
export async function pingTable(client: DynamoDBClient, tableName: string, signal: AbortSignal): Promise<void> {
  const out = await client.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal: signal });
  if (out.Table?.TableStatus !== "ACTIVE") throw new Error(`table is ${out.Table?.TableStatus ?? "missing"}`);
}
