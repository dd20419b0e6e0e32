import { GetItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { KmsError } from "../../shared/errors.js";
import { TenantRecord, type OidcConfig, type TenantStore } from "./store.js";

/**
 * Tenants in the main table:
 *   pk TENANT#<tenantId>   sk TENANT   the tenant and its OIDC config (gsi1: TENANTS / <tenantId>)
 *   pk OIDC#<issuer>       sk OIDC     which tenant an issuer belongs to
 */
const tenantKey = (id: string) => ({ pk: `TENANT#${id}`, sk: "TENANT" });
const issuerKey = (issuer: string) => ({ pk: `OIDC#${issuer}`, sk: "OIDC" });
const tenantItem = (t: TenantRecord) => ({ ...tenantKey(t.tenantId), gsi1pk: "TENANTS", gsi1sk: t.tenantId, ...t });

export class DynamoTenantStore implements TenantStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall(tenantKey(tenantId)), ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, ...item } = unmarshall(out.Item);
    return TenantRecord.parse(item);
  }

  async create(record: TenantRecord): Promise<boolean> {
    try {
      await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall(tenantItem(record), { removeUndefinedValues: true }), ConditionExpression: "attribute_not_exists(pk)" }));
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async list(): Promise<TenantRecord[]> {
    const tenants: TenantRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({ TableName: this.table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: marshall({ ":p": "TENANTS" }), ...(start ? { ExclusiveStartKey: start as never } : {}) }),
      );
      tenants.push(...(page.Items ?? []).map((i) => {
        const { pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, ...item } = unmarshall(i);
        return TenantRecord.parse(item);
      }));
      start = page.LastEvaluatedKey;
    } while (start);
    return tenants;
  }

  async setOidc(tenant: TenantRecord, oidc: OidcConfig | undefined): Promise<void> {
    const previous = (await this.get(tenant.tenantId))?.oidc?.issuer;
    const { oidc: _old, ...rest } = tenant;
    const next: TenantRecord = oidc ? { ...rest, oidc } : rest;
    const items = [
      { Put: { TableName: this.table, Item: marshall(tenantItem(next), { removeUndefinedValues: true }) } },
      ...(previous && previous !== oidc?.issuer
        ? [{ Delete: { TableName: this.table, Key: marshall(issuerKey(previous)), ConditionExpression: "tenant = :t", ExpressionAttributeValues: marshall({ ":t": tenant.tenantId }) } }]
        : []),
      ...(oidc
        ? [{ Put: { TableName: this.table, Item: marshall({ ...issuerKey(oidc.issuer), tenant: tenant.tenantId }), ConditionExpression: "attribute_not_exists(pk) OR tenant = :t", ExpressionAttributeValues: marshall({ ":t": tenant.tenantId }) } }]
        : []),
    ];
    try {
      await this.db.send(new TransactWriteItemsCommand({ TransactItems: items }));
    } catch (err) {
      if ((err as Error).name === "TransactionCanceledException") throw new KmsError("AlreadyExistsException", "that issuer belongs to another tenant");
      throw err;
    }
  }

  async tenantOfIssuer(issuer: string): Promise<string | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall(issuerKey(issuer)), ConsistentRead: true }));
    return out.Item ? String(unmarshall(out.Item).tenant) : undefined;
  }
}
