import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import { KeyPolicyVersion, KeyRecord, KeyVersion } from "./model.js";
import type { AliasRecord, KeyStore, KeyUsageRecord, Page } from "./store.js";

/**
 * Keys in the main table:
 *   pk KEY#<tenant>#<keyId>  sk META              the key's metadata (gsi1: TENANT#<tenant>#KEYS / <createdAt>#<keyId>)
 *   pk KEY#<tenant>#<keyId>  sk V#<0000000001>    one item per version, holding its wrapped material
 *   pk KEY#<tenant>#<keyId>  sk USAGE             operation counts (c_<Action>) and lastUsedAt
 *   pk KEY#<tenant>#<keyId>  sk POLICY#<000001>   one immutable item per key-policy version (META.policyVersion names the one in force)
 *   pk ALIAS#<tenant>        sk <alias/name>      an alias and the key it points to
 */
const pk = (tenant: string, keyId: string) => `KEY#${tenant}#${keyId}`;
const versionSk = (v: number) => `V#${String(v).padStart(10, "0")}`;
const metaItem = (k: KeyRecord) => ({ pk: pk(k.tenant, k.keyId), sk: "META", gsi1pk: `TENANT#${k.tenant}#KEYS`, gsi1sk: `${k.createdAt}#${k.keyId}`, ...k });
const versionItem = (k: KeyRecord, v: KeyVersion) => ({ pk: pk(k.tenant, k.keyId), sk: versionSk(v.version), ...v });
const policySk = (v: number) => `POLICY#${String(v).padStart(6, "0")}`;
const policyItem = (k: KeyRecord, p: KeyPolicyVersion) => ({ pk: pk(k.tenant, k.keyId), sk: policySk(p.version), ...p });

/** The alias was deleted or re-pointed between the caller's check and the write: nothing changed. */
const aliasMoved = (aliasName: string) => new KmsError("KMSInvalidStateException", `alias ${aliasName} changed meanwhile; nothing was done, retry`);

const cancelled = (err: unknown) => err instanceof TransactionCanceledException || (err as Error).name === "ConditionalCheckFailedException";

export class DynamoKeyStore implements KeyStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(key: KeyRecord, first: KeyVersion | undefined, policy?: KeyPolicyVersion): Promise<void> {
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [metaItem(key), ...(first ? [versionItem(key, first)] : []), ...(policy ? [policyItem(key, policy)] : [])].map((item) => ({
            Put: { TableName: this.table, Item: marshall(item, { removeUndefinedValues: true }), ConditionExpression: "attribute_not_exists(pk)" },
          })),
        }),
      );
    } catch (err) {
      if (cancelled(err)) throw new KmsError("AlreadyExistsException", `key ${key.keyId} exists`);
      throw err;
    }
  }

  async get(tenant: string, keyId: string): Promise<KeyRecord | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ pk: pk(tenant, keyId), sk: "META" }), ConsistentRead: true }));
    return out.Item ? KeyRecord.parse(unmarshall(out.Item)) : undefined;
  }

  async list(tenant: string, limit: number, cursor?: string): Promise<Page<KeyRecord>> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: marshall({ ":p": `TENANT#${tenant}#KEYS` }),
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor, tenant) } : {}),
      }),
    );
    const items = (out.Items ?? []).map((i) => KeyRecord.parse(unmarshall(i)));
    return out.LastEvaluatedKey ? { items, cursor: encodeCursor(out.LastEvaluatedKey) } : { items };
  }

  async update(next: KeyRecord): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: this.conditionalMeta(next) }],
        }),
      );
      return true;
    } catch (err) {
      if (cancelled(err)) return false;
      throw err;
    }
  }

  addVersion(next: KeyRecord, version: KeyVersion): Promise<boolean> {
    return this.updateWith(next, versionItem(next, version));
  }

  restoreMaterial(next: KeyRecord, version: KeyVersion): Promise<boolean> {
    // `wrapped` is a reserved word in DynamoDB expressions.
    return this.updateWith(next, versionItem(next, version), { expression: "attribute_exists(pk) AND attribute_not_exists(#w)", names: { "#w": "wrapped" } });
  }

  putPolicy(next: KeyRecord, policy: KeyPolicyVersion): Promise<boolean> {
    return this.updateWith(next, policyItem(next, policy));
  }

  async getPolicy(tenant: string, keyId: string, version: number): Promise<KeyPolicyVersion | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ pk: pk(tenant, keyId), sk: policySk(version) }), ConsistentRead: true }));
    return out.Item ? KeyPolicyVersion.parse(unmarshall(out.Item)) : undefined;
  }

  async listPolicies(tenant: string, keyId: string): Promise<KeyPolicyVersion[]> {
    const items = await this.queryAll("pk = :p AND begins_with(sk, :v)", { ":p": pk(tenant, keyId), ":v": "POLICY#" });
    return items.map((i) => KeyPolicyVersion.parse(i));
  }

  /** The conditional META write plus an item (by default one that must not exist yet: a version, a policy), in one transaction. */
  private async updateWith(next: KeyRecord, item: Record<string, unknown>, condition: { expression: string; names?: Record<string, string> } = { expression: "attribute_not_exists(pk)" }): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: this.conditionalMeta(next) }, { Put: { TableName: this.table, Item: marshall(item, { removeUndefinedValues: true }), ConditionExpression: condition.expression, ...(condition.names ? { ExpressionAttributeNames: condition.names } : {}) } }],
        }),
      );
      return true;
    } catch (err) {
      if (cancelled(err)) return false;
      throw err;
    }
  }

  async getVersion(tenant: string, keyId: string, version: number): Promise<KeyVersion | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ pk: pk(tenant, keyId), sk: versionSk(version) }), ConsistentRead: true }));
    return out.Item ? KeyVersion.parse(unmarshall(out.Item)) : undefined;
  }

  async listVersions(tenant: string, keyId: string): Promise<KeyVersion[]> {
    const items = await this.queryAll("pk = :p AND begins_with(sk, :v)", { ":p": pk(tenant, keyId), ":v": "V#" });
    return items.map((i) => KeyVersion.parse(i));
  }

  /** Every item of one partition matching the key condition, across pages, read consistently. */
  private async queryAll(condition: string, values: Record<string, string>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: condition,
          ExpressionAttributeValues: marshall(values),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start as never } : {}),
        }),
      );
      items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * Marks the key Destroyed and removes every version's wrapped material in one transaction (up
   * to 99 versions; any beyond are removed right after, the key being unusable already).
   */
  async shred(next: KeyRecord): Promise<boolean> {
    const removals = (await this.listVersions(next.tenant, next.keyId)).map((v) => ({
      Update: {
        TableName: this.table,
        Key: marshall({ pk: pk(next.tenant, next.keyId), sk: versionSk(v.version) }),
        UpdateExpression: "REMOVE #wrapped",
        ExpressionAttributeNames: { "#wrapped": "wrapped" },
      },
    }));
    try {
      await this.db.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: this.conditionalMeta(next) }, ...removals.slice(0, 99)] }));
    } catch (err) {
      if (cancelled(err)) return false;
      throw err;
    }
    for (let i = 99; i < removals.length; i += 100) {
      await this.db.send(new TransactWriteItemsCommand({ TransactItems: removals.slice(i, i + 100) }));
    }
    return true;
  }

  createAlias(alias: AliasRecord): Promise<void> {
    return this.putAlias(alias, "attribute_not_exists(pk)", () => new KmsError("AlreadyExistsException", `alias ${alias.aliasName} exists`));
  }

  updateAlias(alias: AliasRecord, fromKeyId: string): Promise<void> {
    return this.putAlias(alias, "keyId = :from", () => aliasMoved(alias.aliasName), { ":from": fromKeyId });
  }

  private async putAlias(alias: AliasRecord, condition: string, refused: () => KmsError, values?: Record<string, string>): Promise<void> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({ pk: `ALIAS#${alias.tenant}`, sk: alias.aliasName, ...alias }, { removeUndefinedValues: true }),
          ConditionExpression: condition,
          ...(values ? { ExpressionAttributeValues: marshall(values) } : {}),
        }),
      );
    } catch (err) {
      if (cancelled(err)) throw refused();
      throw err;
    }
  }

  async deleteAlias(tenant: string, aliasName: string, keyId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteItemCommand({ TableName: this.table, Key: marshall({ pk: `ALIAS#${tenant}`, sk: aliasName }), ConditionExpression: "keyId = :k", ExpressionAttributeValues: marshall({ ":k": keyId }) }),
      );
    } catch (err) {
      if (cancelled(err)) throw aliasMoved(aliasName);
      throw err;
    }
  }

  async getAlias(tenant: string, aliasName: string): Promise<AliasRecord | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ pk: `ALIAS#${tenant}`, sk: aliasName }), ConsistentRead: true }));
    return out.Item ? aliasOf(unmarshall(out.Item)) : undefined;
  }

  async listAliases(tenant: string): Promise<AliasRecord[]> {
    return (await this.queryAll("pk = :p", { ":p": `ALIAS#${tenant}` })).map(aliasOf);
  }

  async reserveEncryptions(tenant: string, keyId: string, version: number, count: number): Promise<number> {
    const out = await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk: pk(tenant, keyId), sk: versionSk(version) }),
        UpdateExpression: "ADD reservedEncryptions :n",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: marshall({ ":n": count }),
        ReturnValues: "UPDATED_NEW",
      }),
    );
    return Number(unmarshall(out.Attributes ?? {}).reservedEncryptions ?? 0);
  }

  async addUsage(tenant: string, keyId: string, counts: Record<string, number>, lastUsedAt: string): Promise<void> {
    const entries = Object.entries(counts);
    if (entries.length === 0) return;
    await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk: pk(tenant, keyId), sk: "USAGE" }),
        UpdateExpression: `ADD ${entries.map((_, i) => `#c${i} :n${i}`).join(", ")} SET lastUsedAt = :t`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([op], i) => [`#c${i}`, `c_${op}`])),
        ExpressionAttributeValues: marshall({ ":t": lastUsedAt, ...Object.fromEntries(entries.map(([, n], i) => [`:n${i}`, n])) }),
      }),
    );
  }

  async getUsage(tenant: string, keyId: string): Promise<KeyUsageRecord> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ pk: pk(tenant, keyId), sk: "USAGE" }), ConsistentRead: true }));
    const item = out.Item ? unmarshall(out.Item) : {};
    const counts = Object.fromEntries(Object.entries(item).filter(([k]) => k.startsWith("c_")).map(([k, v]) => [k.slice(2), Number(v)]));
    return typeof item.lastUsedAt === "string" ? { counts, lastUsedAt: item.lastUsedAt } : { counts };
  }

  private conditionalMeta(next: KeyRecord) {
    return {
      TableName: this.table,
      Item: marshall(metaItem(next), { removeUndefinedValues: true }),
      ConditionExpression: "#rev = :expected",
      ExpressionAttributeNames: { "#rev": "revision" },
      ExpressionAttributeValues: marshall({ ":expected": next.revision - 1 }),
    };
  }
}

const aliasOf = (i: Record<string, unknown>): AliasRecord => ({
  tenant: String(i.tenant),
  aliasName: String(i.aliasName),
  keyId: String(i.keyId),
  createdAt: String(i.createdAt),
  ...(typeof i.updatedAt === "string" ? { updatedAt: i.updatedAt } : {}),
});

/** Opaque cursors: the gsi1 listing's last evaluated key, base64url JSON. */
const Cursor = z.object({ pk: z.string().max(200), sk: z.literal("META"), gsi1pk: z.string(), gsi1sk: z.string().max(200) }).strict();

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(unmarshall(key as never))).toString("base64url");
}

/** A cursor is parsed with zod and must point into the caller's own listing, or it is refused. */
function decodeCursor(cursor: string, tenant: string) {
  let parsed: z.infer<typeof Cursor> | undefined;
  try {
    parsed = Cursor.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.gsi1pk !== `TENANT#${tenant}#KEYS` || !parsed.pk.startsWith(`KEY#${tenant}#`)) {
    throw new KmsError("ValidationException", "the pagination cursor is invalid");
  }
  return marshall(parsed);
}
