import { BatchWriteItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import { AuditRecord, Checkpoint } from "./record.js";
import type { AuditQuery, AuditStore } from "./store.js";

/**
 * Audit in the main table:
 *   pk AUDIT#<tenant>#<writer>        sk <seq, 12 digits>   a record (gsi1: AUDITDAY#<tenant>#<day> / <time>#<writer>#<seq>)
 *   pk AUDITCHAINS#<tenant>           sk <writer>           every writer that wrote for the tenant
 *   pk AUDITCP#<tenant>#<writer>      sk <seq, 12 digits>   a signed checkpoint of that chain
 */
const pad = (n: number) => String(n).padStart(12, "0");
const DAY_MS = 86_400_000;

const recordItem = (r: AuditRecord) => ({
  pk: `AUDIT#${r.tenant}#${r.writer}`,
  sk: pad(r.seq),
  gsi1pk: `AUDITDAY#${r.tenant}#${r.time.slice(0, 10)}`,
  gsi1sk: `${r.time}#${r.writer}#${pad(r.seq)}`,
  ...r,
});

const Cursor = z.object({ day: z.iso.date(), key: z.object({ pk: z.string().max(300), sk: z.string().max(20), gsi1pk: z.string().max(300), gsi1sk: z.string().max(300) }).strict().optional() }).strict();

export class DynamoAuditStore implements AuditStore {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async append(records: readonly AuditRecord[], newChains: readonly { tenant: string; writer: string; createdAt: string }[]): Promise<void> {
    // The registry first (idempotent): a chain is known even if its first batch is then lost.
    for (let i = 0; i < newChains.length; i += 25) {
      const puts = newChains.slice(i, i + 25).map((c) => ({ PutRequest: { Item: marshall({ pk: `AUDITCHAINS#${c.tenant}`, sk: c.writer, ...c }) } }));
      let pending: Record<string, unknown>[] | undefined = puts;
      for (let attempt = 0; pending?.length && attempt < 5; attempt++) {
        const out = await this.db.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending as never } }));
        pending = out.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined;
      }
      if (pending?.length) throw new Error("audit chain registry not written");
    }
    if (records.length > 100) throw new Error("an audit batch holds at most 100 records");
    await this.db.send(
      new TransactWriteItemsCommand({
        TransactItems: records.map((r) => ({ Put: { TableName: this.table, Item: marshall(recordItem(r), { removeUndefinedValues: true }), ConditionExpression: "attribute_not_exists(pk)" } })),
      }),
    );
  }

  async putCheckpoint(c: Checkpoint): Promise<void> {
    await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall({ pk: `AUDITCP#${c.tenant}#${c.writer}`, sk: pad(c.seq), ...c }) }));
  }

  async writers(tenant: string): Promise<string[]> {
    return (await this.partition(`AUDITCHAINS#${tenant}`)).map((i) => String(i.sk));
  }

  async chain(tenant: string, writer: string): Promise<AuditRecord[]> {
    return (await this.partition(`AUDIT#${tenant}#${writer}`)).map(storedRecord);
  }

  async checkpoints(tenant: string, writer: string): Promise<Checkpoint[]> {
    return (await this.partition(`AUDITCP#${tenant}#${writer}`)).map((i) => Checkpoint.parse(stripKeys(i)));
  }

  async query(tenant: string, q: AuditQuery): Promise<{ records: AuditRecord[]; cursor?: string }> {
    const at = q.cursor ? decodeCursor(q.cursor, tenant) : { day: q.from.slice(0, 10) };
    const lastDay = q.to.slice(0, 10);
    const filters = (["keyId", "principalId", "action", "result"] as const).filter((f) => q[f] !== undefined);
    const records: AuditRecord[] = [];
    let day = at.day;
    let start: Record<string, unknown> | undefined = at.key;
    while (day <= lastDay) {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :p AND gsi1sk BETWEEN :from AND :to",
          ...(filters.length ? { FilterExpression: filters.map((f) => `#${f} = :${f}`).join(" AND "), ExpressionAttributeNames: Object.fromEntries(filters.map((f) => [`#${f}`, f])) } : {}),
          ExpressionAttributeValues: marshall({ ":p": `AUDITDAY#${tenant}#${day}`, ":from": q.from, ":to": `${q.to}~`, ...Object.fromEntries(filters.map((f) => [`:${f}`, q[f]])) }),
          Limit: q.limit - records.length,
          ...(start ? { ExclusiveStartKey: marshall(start) } : {}),
        }),
      );
      records.push(...(out.Items ?? []).map((i) => storedRecord(unmarshall(i))));
      start = out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined;
      if (!start) day = new Date(Date.parse(day) + DAY_MS).toISOString().slice(0, 10);
      if (records.length >= q.limit) break;
    }
    const more = day <= lastDay;
    return more ? { records, cursor: Buffer.from(JSON.stringify({ day, ...(start ? { key: start } : {}) })).toString("base64url") } : { records };
  }

  /** Every item of one partition, in sort-key order, read consistently. */
  private async partition(pk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({ TableName: this.table, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: marshall({ ":p": pk }), ConsistentRead: true, ...(start ? { ExclusiveStartKey: start as never } : {}) }),
      );
      items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

const stripKeys = ({ pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, ...rest }: Record<string, unknown>) => rest;
const storedRecord = (item: Record<string, unknown>): AuditRecord => AuditRecord.parse(stripKeys(item));

/** A cursor is parsed with zod and must point into the caller's own records, or it is refused. */
function decodeCursor(cursor: string, tenant: string): { day: string; key?: Record<string, unknown> } {
  let parsed: z.infer<typeof Cursor> | undefined;
  try {
    parsed = Cursor.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.key && (!parsed.key.pk.startsWith(`AUDIT#${tenant}#`) || parsed.key.gsi1pk !== `AUDITDAY#${tenant}#${parsed.day}`))) {
    throw new KmsError("ValidationException", "the pagination cursor is invalid");
  }
  return parsed;
}
