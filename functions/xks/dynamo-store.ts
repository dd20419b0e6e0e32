import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { XksKeyStore, type XksStore } from "./store.js";

/**
 * XKS key stores in the main table, found by the URI path prefix every XKS request carries:
 *   pk XKSSTORE#<uriPathPrefix>   sk XKSSTORE   (gsi1: TENANT#<tenant>#XKS / <keyStoreId>)
 */
const storeKey = (prefix: string) => ({ pk: `XKSSTORE#${prefix}`, sk: "XKSSTORE" });

export class DynamoXksStore implements XksStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(store: XksKeyStore): Promise<boolean> {
    try {
      const item = { ...storeKey(store.uriPathPrefix), gsi1pk: `TENANT#${store.tenant}#XKS`, gsi1sk: store.keyStoreId, ...store };
      await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall(item), ConditionExpression: "attribute_not_exists(pk)" }));
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async byPrefix(uriPathPrefix: string): Promise<XksKeyStore | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall(storeKey(uriPathPrefix)) }));
    return out.Item ? parse(out.Item) : undefined;
  }

  async list(tenant: string): Promise<XksKeyStore[]> {
    const out = await this.db.send(
      new QueryCommand({ TableName: this.table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: marshall({ ":p": `TENANT#${tenant}#XKS` }) }),
    );
    return (out.Items ?? []).map(parse);
  }

  async delete(store: XksKeyStore): Promise<void> {
    await this.db.send(new DeleteItemCommand({ TableName: this.table, Key: marshall(storeKey(store.uriPathPrefix)) }));
  }
}

function parse(item: Parameters<typeof unmarshall>[0]): XksKeyStore {
  const { pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, ...rest } = unmarshall(item);
  return XksKeyStore.parse(rest);
}
