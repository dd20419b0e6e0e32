import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { z } from "zod";
import { KmsError } from "../../shared/errors.js";
import { AccessKeyRecord, ApiKeyRecord, ConnectorRecord, PrincipalRecord, TokenKeyRecord, type IdentityStore } from "./store.js";

/**
 * Identity in the main table:
 *   pk PRINCIPAL#<tenant>         sk <principalId>   a user, role or service and its roles
 *   pk CRED#<apiKeyId>            sk CRED            an API key: principal, scrypt hash (gsi1: TENANT#<tenant> / CRED#<id>)
 *   pk ACCESSKEY#<accessKeyId>    sk ACCESSKEY       a SigV4 access key: principal, HSM-wrapped secret (gsi1: TENANT#<tenant> / ACCESSKEY#<id>)
 *   pk SYSTEM                     sk TOKENKEY#<kid>  a session-token signing key, HSM-wrapped
 *   pk CONNECTOR#<connectorId>    sk CONNECTOR       a connector's Ed25519 public key
 */
const apiKeyPk = (id: string) => ({ pk: `CRED#${id}`, sk: "CRED" });
const accessKeyPk = (id: string) => ({ pk: `ACCESSKEY#${id}`, sk: "ACCESSKEY" });
const principalPk = (tenant: string, id: string) => ({ pk: `PRINCIPAL#${tenant}`, sk: id });
const connectorPk = (id: string) => ({ pk: `CONNECTOR#${id}`, sk: "CONNECTOR" });
const tokenKeyPk = (kid: string) => ({ pk: "SYSTEM", sk: `TOKENKEY#${kid}` });

const conditionFailed = (err: unknown) => (err as Error).name === "ConditionalCheckFailedException";

export class DynamoIdentityStore implements IdentityStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  getPrincipal(tenant: string, principalId: string): Promise<PrincipalRecord | undefined> {
    return this.get(principalPk(tenant, principalId), PrincipalRecord);
  }

  async createPrincipal(record: PrincipalRecord): Promise<void> {
    await this.put({ ...principalPk(record.tenant, record.principalId), ...record }, "attribute_not_exists(pk)", () => new KmsError("AlreadyExistsException", `principal ${record.principalId} exists`));
  }

  async updatePrincipal(record: PrincipalRecord): Promise<void> {
    await this.put({ ...principalPk(record.tenant, record.principalId), ...record }, "attribute_exists(pk)", () => new KmsError("NotFoundException", `principal ${record.principalId} does not exist`));
  }

  async listPrincipals(tenant: string): Promise<PrincipalRecord[]> {
    return (await this.query({ KeyConditionExpression: "pk = :p", ExpressionAttributeValues: marshall({ ":p": `PRINCIPAL#${tenant}` }), ConsistentRead: true })).map((i) => PrincipalRecord.parse(i));
  }

  async deletePrincipal(tenant: string, principalId: string): Promise<void> {
    await this.delete(principalPk(tenant, principalId), tenant, () => new KmsError("NotFoundException", `principal ${principalId} does not exist`));
  }

  getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.get(apiKeyPk(id), ApiKeyRecord);
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    await this.put({ ...apiKeyPk(record.id), ...record, gsi1pk: `TENANT#${record.tenant}`, gsi1sk: `CRED#${record.id}` }, "attribute_not_exists(pk)", () => new KmsError("KMSInvalidStateException", "that API key id exists"));
  }

  async listApiKeys(tenant: string): Promise<ApiKeyRecord[]> {
    return (await this.byTenant(tenant, "CRED#")).map((i) => ApiKeyRecord.parse(i));
  }

  async deleteApiKey(tenant: string, id: string): Promise<void> {
    await this.delete(apiKeyPk(id), tenant, () => new KmsError("NotFoundException", `API key ${id} does not exist`));
  }

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.get(accessKeyPk(accessKeyId), AccessKeyRecord);
  }

  async putAccessKey(record: AccessKeyRecord): Promise<void> {
    await this.put(
      { ...accessKeyPk(record.accessKeyId), ...record, gsi1pk: `TENANT#${record.tenant}`, gsi1sk: `ACCESSKEY#${record.accessKeyId}` },
      "attribute_not_exists(pk)",
      () => new KmsError("KMSInvalidStateException", "that access key id exists"),
    );
  }

  async listAccessKeys(tenant: string): Promise<AccessKeyRecord[]> {
    return (await this.byTenant(tenant, "ACCESSKEY#")).map((i) => AccessKeyRecord.parse(i));
  }

  async deleteAccessKey(tenant: string, accessKeyId: string): Promise<void> {
    await this.delete(accessKeyPk(accessKeyId), tenant, () => new KmsError("NotFoundException", `access key ${accessKeyId} does not exist`));
  }

  getTokenKey(kid: string): Promise<TokenKeyRecord | undefined> {
    return this.get(tokenKeyPk(kid), TokenKeyRecord);
  }

  async putTokenKey(record: TokenKeyRecord): Promise<TokenKeyRecord> {
    try {
      await this.put({ ...tokenKeyPk(record.kid), ...record }, "attribute_not_exists(pk)", () => new KmsError("AlreadyExistsException", "token key exists"));
      return record;
    } catch (err) {
      const existing = await this.getTokenKey(record.kid);
      if (existing) return existing;
      throw err;
    }
  }

  async deleteTokenKeysBefore(kid: string): Promise<string[]> {
    const old = (await this.query({ KeyConditionExpression: "pk = :p AND begins_with(sk, :k)", ExpressionAttributeValues: marshall({ ":p": "SYSTEM", ":k": "TOKENKEY#" }), ConsistentRead: true }))
      .map((i) => TokenKeyRecord.parse(i).kid)
      .filter((k) => k < kid);
    for (const k of old) await this.db.send(new DeleteItemCommand({ TableName: this.table, Key: marshall(tokenKeyPk(k)) }));
    return old;
  }

  getConnector(connectorId: string): Promise<ConnectorRecord | undefined> {
    return this.get(connectorPk(connectorId), ConnectorRecord);
  }

  async putConnector(record: ConnectorRecord): Promise<void> {
    await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall({ ...connectorPk(record.connectorId), ...record }) }));
  }

  private async get<T>(key: Record<string, string>, schema: z.ZodType<T>): Promise<T | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall(key), ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, ...item } = unmarshall(out.Item);
    return schema.parse(item);
  }

  private async put(item: Record<string, unknown>, condition: string, refused: () => KmsError): Promise<void> {
    try {
      await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall(item, { removeUndefinedValues: true }), ConditionExpression: condition }));
    } catch (err) {
      if (conditionFailed(err)) throw refused();
      throw err;
    }
  }

  /** Deletes an item only if it belongs to the tenant: another tenant's item is as absent as a missing one. */
  private async delete(key: Record<string, string>, tenant: string, missing: () => KmsError): Promise<void> {
    try {
      await this.db.send(new DeleteItemCommand({ TableName: this.table, Key: marshall(key), ConditionExpression: "tenant = :t", ExpressionAttributeValues: marshall({ ":t": tenant }) }));
    } catch (err) {
      if (conditionFailed(err)) throw missing();
      throw err;
    }
  }

  private byTenant(tenant: string, prefix: string): Promise<Record<string, unknown>[]> {
    return this.query({ IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :t AND begins_with(gsi1sk, :c)", ExpressionAttributeValues: marshall({ ":t": `TENANT#${tenant}`, ":c": prefix }) });
  }

  private async query(q: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName" | "ExclusiveStartKey">): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(new QueryCommand({ TableName: this.table, ...q, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
      items.push(...(page.Items ?? []).map((i) => {
        const { pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, ...item } = unmarshall(i);
        return item;
      }));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
