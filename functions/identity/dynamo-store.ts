import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { KmsError } from "../../shared/errors.js";
import { ApiKeyRecord, ConnectorRecord, type IdentityStore } from "./store.js";

const apiKeyPk = (id: string) => ({ pk: `CRED#${id}`, sk: "CRED" });
const connectorPk = (id: string) => ({ pk: `CONNECTOR#${id}`, sk: "CONNECTOR" });

export class DynamoIdentityStore implements IdentityStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall(apiKeyPk(id)), ConsistentRead: true }));
    return out.Item ? ApiKeyRecord.parse(unmarshall(out.Item)) : undefined;
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({ ...apiKeyPk(record.id), ...record, gsi1pk: `TENANT#${record.tenant}`, gsi1sk: `CRED#${record.id}` }),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") throw new KmsError("KMSInvalidStateException", "that API key id exists");
      throw err;
    }
  }

  async listApiKeys(tenant: string): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :t AND begins_with(gsi1sk, :c)",
          ExpressionAttributeValues: marshall({ ":t": `TENANT#${tenant}`, ":c": "CRED#" }),
          ...(start ? { ExclusiveStartKey: start as never } : {}),
        }),
      );
      records.push(...(page.Items ?? []).map((i) => ApiKeyRecord.parse(unmarshall(i))));
      start = page.LastEvaluatedKey;
    } while (start);
    return records;
  }

  async deleteApiKey(tenant: string, id: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: marshall(apiKeyPk(id)),
          ConditionExpression: "tenant = :t",
          ExpressionAttributeValues: marshall({ ":t": tenant }),
        }),
      );
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") throw new KmsError("NotFoundException", `API key ${id} does not exist`);
      throw err;
    }
  }

  async getConnector(connectorId: string): Promise<ConnectorRecord | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall(connectorPk(connectorId)), ConsistentRead: true }));
    return out.Item ? ConnectorRecord.parse(unmarshall(out.Item)) : undefined;
  }

  async putConnector(record: ConnectorRecord): Promise<void> {
    await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall({ ...connectorPk(record.connectorId), ...record }) }));
  }
}
