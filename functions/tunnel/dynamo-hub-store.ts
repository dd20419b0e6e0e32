import { BatchGetItemCommand, DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { HubConnection, type HubConnectionState, type HubStore, type StoredReply } from "./hub-store.js";

/**
 * Items (main table):
 *   pk HUBCONN                        sk <connectionId>  a connector's API Gateway connection and its state
 *   pk HUBREPLY#<connectionId>#<id>   sk REPLY           a connector's response to request <id>, until read
 * Both carry `expiresAt` (TTL): API Gateway ends a connection after 2 hours at most, and a reply
 * outlives its request's deadline by minutes at most.
 */
const CONNECTION_TTL_S = 3 * 3600;
const connKey = (connectionId: string) => ({ pk: "HUBCONN", sk: connectionId });
const replyKey = (connectionId: string, id: number) => ({ pk: `HUBREPLY#${connectionId}#${id}`, sk: "REPLY" });

export class DynamoHubStore implements HubStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async putConnection(c: HubConnection): Promise<void> {
    const expiresAt = Math.floor(Date.parse(c.connectedAt) / 1000) + CONNECTION_TTL_S;
    await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall({ ...connKey(c.connectionId), ...c, expiresAt }, { removeUndefinedValues: true }) }));
  }

  async getConnection(connectionId: string): Promise<HubConnection | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall(connKey(connectionId)), ConsistentRead: true }));
    return out.Item ? HubConnection.parse(unmarshall(out.Item)) : undefined;
  }

  async advance(connectionId: string, from: readonly HubConnectionState[], next: Partial<HubConnection> & { state: HubConnectionState }): Promise<boolean> {
    const fields = Object.entries(next).filter(([name, value]) => value !== undefined && name !== "connectionId");
    const names = Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name]));
    const values = Object.fromEntries(fields.map(([, value], i) => [`:f${i}`, value]));
    const fromValues = Object.fromEntries(from.map((s, i) => [`:from${i}`, s]));
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(connKey(connectionId)),
          UpdateExpression: `SET ${fields.map((_, i) => `#f${i} = :f${i}`).join(", ")}`,
          ConditionExpression: `attribute_exists(pk) AND #state IN (${from.map((_, i) => `:from${i}`).join(", ")})`,
          ExpressionAttributeNames: { ...names, "#state": "state" },
          ExpressionAttributeValues: marshall({ ...values, ...fromValues }),
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async deleteConnection(connectionId: string): Promise<void> {
    await this.db.send(new DeleteItemCommand({ TableName: this.table, Key: marshall(connKey(connectionId)) }));
  }

  async listConnections(): Promise<HubConnection[]> {
    const items: HubConnection[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :p",
          ExpressionAttributeValues: marshall({ ":p": "HUBCONN" }),
          ...(start ? { ExclusiveStartKey: start as never } : {}),
        }),
      );
      items.push(...(page.Items ?? []).map((i) => HubConnection.parse(unmarshall(i))));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async putReply(connectionId: string, id: number, reply: StoredReply, expiresAt: number): Promise<void> {
    await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall({ ...replyKey(connectionId, id), ...reply, expiresAt }) }));
  }

  async pollReply(connectionId: string, id: number): Promise<{ reply?: StoredReply; connected: boolean }> {
    const out = await this.db.send(
      new BatchGetItemCommand({
        RequestItems: { [this.table]: { Keys: [marshall(connKey(connectionId)), marshall(replyKey(connectionId, id))], ConsistentRead: true, ProjectionExpression: "pk, #frame, storedAt", ExpressionAttributeNames: { "#frame": "frame" } } },
      }),
    );
    // Unprocessed keys (throttling) read as "no news yet": the next poll asks again.
    const items = (out.Responses?.[this.table] ?? []).map((i) => unmarshall(i) as { pk: string; frame?: string; storedAt?: number });
    const unprocessed = (out.UnprocessedKeys?.[this.table]?.Keys ?? []).map((k) => unmarshall(k) as { pk: string });
    const stored = items.find((i) => i.pk !== "HUBCONN");
    const connected = items.some((i) => i.pk === "HUBCONN") || unprocessed.some((k) => k.pk === "HUBCONN");
    return stored?.frame === undefined ? { connected } : { reply: { frame: stored.frame, storedAt: stored.storedAt ?? Date.now() }, connected };
  }

  async deleteReply(connectionId: string, id: number): Promise<void> {
    await this.db.send(new DeleteItemCommand({ TableName: this.table, Key: marshall(replyKey(connectionId, id)) }));
  }
}
