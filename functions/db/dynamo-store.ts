import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";

export type DynamoOptions = { region: string; endpoint?: string | undefined };

/** One DynamoDB client per process; DynamoDB Local accepts any credentials. */
export function createDynamoClient(o: DynamoOptions): DynamoDBClient {
  return new DynamoDBClient({
    region: o.region,
    ...(o.endpoint
      ? { endpoint: o.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: 2,
  });
}

/** Answers when the table is reachable and active; throws otherwise. */
export async function pingTable(client: DynamoDBClient, tableName: string, signal: AbortSignal): Promise<void> {
  const out = await client.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal: signal });
  if (out.Table?.TableStatus !== "ACTIVE") throw new Error(`table is ${out.Table?.TableStatus ?? "missing"}`);
}
