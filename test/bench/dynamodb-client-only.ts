import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

// The baseline of the Lambda module-load case: a handler module that only builds a DynamoDB
// client, the least any Tether function needs.
const client = new DynamoDBClient({ region: process.env.AWS_REGION ?? "us-east-1" });
export const handler = (key: Record<string, never>) => client.send(new GetItemCommand({ TableName: "t", Key: key }));
