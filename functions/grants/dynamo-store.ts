import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { GrantRecord, type GrantStore } from "./store.js";

/**
 * Grants in the main table, in their key's partition:
 *   pk KEY#<tenant>#<keyId>  sk GRANT#<grantId>   (gsi1: RETIRING#<tenant>#<retiringPrincipal> / <grantId>)
 */
const pk = (tenant: string, keyId: string) => `KEY#${tenant}#${keyId}`;

export class DynamoGrantStore implements GrantStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(grant: GrantRecord): Promise<void> {
    const index = grant.retiringPrincipal ? { gsi1pk: `RETIRING#${grant.tenant}#${grant.retiringPrincipal}`, gsi1sk: grant.grantId } : {};
    await this.db.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ pk: pk(grant.tenant, grant.keyId), sk: `GRANT#${grant.grantId}`, ...index, ...grant }, { removeUndefinedValues: true }),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  async get(tenant: string, keyId: string, grantId: string): Promise<GrantRecord | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ pk: pk(tenant, keyId), sk: `GRANT#${grantId}` }), ConsistentRead: true }));
    return out.Item ? GrantRecord.parse(unmarshall(out.Item)) : undefined;
  }

  listForKey(tenant: string, keyId: string): Promise<GrantRecord[]> {
    return this.queryAll({ KeyConditionExpression: "pk = :p AND begins_with(sk, :g)", ExpressionAttributeValues: marshall({ ":p": pk(tenant, keyId), ":g": "GRANT#" }), ConsistentRead: true });
  }

  listRetirable(tenant: string, retiringPrincipal: string): Promise<GrantRecord[]> {
    return this.queryAll({ IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: marshall({ ":p": `RETIRING#${tenant}#${retiringPrincipal}` }) });
  }

  async delete(tenant: string, keyId: string, grantId: string): Promise<boolean> {
    try {
      await this.db.send(new DeleteItemCommand({ TableName: this.table, Key: marshall({ pk: pk(tenant, keyId), sk: `GRANT#${grantId}` }), ConditionExpression: "attribute_exists(pk)" }));
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  private async queryAll(query: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName" | "ExclusiveStartKey">): Promise<GrantRecord[]> {
    const grants: GrantRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(new QueryCommand({ TableName: this.table, ...query, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
      grants.push(...(page.Items ?? []).map((i) => GrantRecord.parse(unmarshall(i))));
      start = page.LastEvaluatedKey;
    } while (start);
    return grants;
  }
}
