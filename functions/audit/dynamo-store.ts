import { BatchWriteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import { AuditRecord, Checkpoint } from "./record.js";
import type { AuditQuery, AuditStore, RegisteredChain } from "./store.js";

/**
 * Audit in the main table:
 *   pk AUDIT#<tenant>#<writer>        sk <first seq, 12 digits>   a segment: consecutive records of one chain, written
 *                                                                  together (gsi1: AUDITDAY#<tenant>#<day> / <first time>#<writer>#<first seq>)
 *   pk AUDITCHAINS#<tenant>           sk <writer>                 every writer that wrote for the tenant, with the
 *                                                                  number (signedN) and seq (signedSeq) of its latest checkpoint
 *   pk AUDITCP#<tenant>               sk <n, 12 digits>           checkpoint n of the tenant's log (each names a chain and its head)
 *
 * Why segments: a group-committed batch is one conditional PutItem per chain (the records as one
 * JSON attribute), not one item per record in a transaction. On DynamoDB Local that is 8 ms
 * against 96 ms for 50 records (measured); on DynamoDB it is ~30 WCU against 100 (transactions
 * bill twice per item). A batch spanning several chains writes its segments in one transaction.
 */
const pad = (n: number) => String(n).padStart(12, "0");
const DAY_MS = 86_400_000;
/** Records of one segment are at most this far apart in time (they are written within one batch). */
const SEGMENT_SPAN_MS = 60_000;
/** Below DynamoDB's 400 KB item limit, with room for the keys. */
const SEGMENT_MAX_BYTES = 350_000;

type Segment = { pk: string; sk: string; gsi1pk: string; gsi1sk: string; firstSeq: number; lastSeq: number; records: string };

/** The batch's records cut into segments: per chain, in chain order, each under the item size limit. */
function segmentsOf(records: readonly AuditRecord[]): Segment[] {
  const byChain = new Map<string, AuditRecord[]>();
  for (const r of records) byChain.set(`${r.tenant}#${r.writer}`, [...(byChain.get(`${r.tenant}#${r.writer}`) ?? []), r]);
  const segments: Segment[] = [];
  for (const chain of byChain.values()) {
    let current: { records: AuditRecord[]; bytes: number } = { records: [], bytes: 0 };
    const close = () => {
      const [first, last] = [current.records[0], current.records.at(-1)];
      if (!first || !last) return;
      segments.push({
        pk: `AUDIT#${first.tenant}#${first.writer}`,
        sk: pad(first.seq),
        gsi1pk: `AUDITDAY#${first.tenant}#${first.time.slice(0, 10)}`,
        gsi1sk: `${first.time}#${first.writer}#${pad(first.seq)}`,
        firstSeq: first.seq,
        lastSeq: last.seq,
        records: JSON.stringify(current.records),
      });
    };
    for (const r of chain) {
      const bytes = Buffer.byteLength(JSON.stringify(r)) + 1;
      if (current.records.length && current.bytes + bytes > SEGMENT_MAX_BYTES) {
        close();
        current = { records: [], bytes: 0 };
      }
      current.records.push(r);
      current.bytes += bytes;
    }
    close();
  }
  return segments;
}

/** A segment's records; an unreadable segment yields none, and verify reports its seqs missing. */
function recordsOf(item: Record<string, unknown>): AuditRecord[] {
  try {
    return z.array(AuditRecord).parse(JSON.parse(String(item.records)));
  } catch {
    return [];
  }
}

const Cursor = z
  .object({
    day: z.iso.date(),
    /** The sort key (gsi1sk) to read from, inclusive: a segment partly returned, or just after the last one done. */
    from: z.string().max(300),
    /** How many matching records of the `from` segment were already returned. */
    skip: z.number().int().min(0).max(100_000),
  })
  .strict();

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
    const segments = segmentsOf(records);
    if (segments.length > 100) throw new Error("an audit batch spans at most 100 segments");
    const [only] = segments;
    if (segments.length === 1 && only) return this.putSegment(only);
    // Several chains: all or nothing (the SDK's ClientRequestToken makes a retry idempotent).
    await this.db.send(new TransactWriteItemsCommand({ TransactItems: segments.map((g) => ({ Put: { TableName: this.table, Item: marshall(g), ConditionExpression: "attribute_not_exists(pk)" } })) }));
  }

  /** A segment is written once; a retry whose first attempt did land (its answer lost) finds its own segment there. */
  private async putSegment(g: Segment): Promise<void> {
    try {
      await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall(g), ConditionExpression: "attribute_not_exists(pk)" }));
    } catch (err) {
      if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
      const there = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ pk: g.pk, sk: g.sk }), ConsistentRead: true }));
      if (there.Item && unmarshall(there.Item).records === g.records) return;
      throw new Error(`audit segment ${g.pk}/${g.sk} exists with other records`);
    }
  }

  async lastCheckpoint(tenant: string): Promise<Checkpoint | undefined> {
    const out = await this.db.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: marshall({ ":p": `AUDITCP#${tenant}` }), ScanIndexForward: false, Limit: 1, ConsistentRead: true }),
    );
    const item = out.Items?.[0];
    return item ? Checkpoint.parse(stripKeys(unmarshall(item))) : undefined;
  }

  async putCheckpoint(c: Checkpoint): Promise<boolean> {
    try {
      await this.db.send(new PutItemCommand({ TableName: this.table, Item: marshall({ pk: `AUDITCP#${c.tenant}`, sk: pad(c.n), ...c }), ConditionExpression: "attribute_not_exists(pk)" }));
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async chains(tenant: string): Promise<RegisteredChain[]> {
    return (await this.partition(`AUDITCHAINS#${tenant}`)).map((i) => {
      const signedN = z.number().int().min(1).safeParse(i.signedN);
      return { writer: String(i.sk), ...(signedN.success ? { signedN: signedN.data } : {}) };
    });
  }

  async chain(tenant: string, writer: string): Promise<AuditRecord[]> {
    return (await this.partition(`AUDIT#${tenant}#${writer}`)).flatMap(recordsOf);
  }

  /** From the segment that holds `seq` (the last one starting at or before it) on. */
  async chainFrom(tenant: string, writer: string, seq: number): Promise<AuditRecord[]> {
    const pk = `AUDIT#${tenant}#${writer}`;
    const holding = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :p AND sk <= :s",
        ExpressionAttributeValues: marshall({ ":p": pk, ":s": pad(seq) }),
        ProjectionExpression: "sk",
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const start = holding.Items?.[0] ? String(unmarshall(holding.Items[0]).sk) : pad(seq);
    return (await this.partition(pk, start)).flatMap(recordsOf);
  }

  async markSigned(c: Checkpoint): Promise<void> {
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `AUDITCHAINS#${c.tenant}`, sk: c.writer }),
          UpdateExpression: "SET signedN = :n, signedSeq = :s",
          ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(signedSeq) OR signedSeq < :s)",
          ExpressionAttributeValues: marshall({ ":n": c.n, ":s": c.seq }),
        }),
      );
    } catch (err) {
      if ((err as Error).name !== "ConditionalCheckFailedException") throw err;
    }
  }

  async checkpoint(tenant: string, n: number): Promise<Checkpoint | undefined> {
    const out = await this.db.send(new GetItemCommand({ TableName: this.table, Key: marshall({ pk: `AUDITCP#${tenant}`, sk: pad(n) }), ConsistentRead: true }));
    const parsed = out.Item ? Checkpoint.safeParse(stripKeys(unmarshall(out.Item))) : undefined;
    return parsed?.success ? parsed.data : undefined;
  }

  /** An item that does not parse is left out: verify reports its number missing. */
  async checkpoints(tenant: string): Promise<Checkpoint[]> {
    return (await this.partition(`AUDITCP#${tenant}`)).flatMap((i) => {
      const parsed = Checkpoint.safeParse(stripKeys(i));
      return parsed.success ? [parsed.data] : [];
    });
  }

  /**
   * Records in [from, to] matching the filters, segment by segment in the order they were written
   * (by their first record's time), a page at a time. The cursor names the day, the segment to
   * read from (inclusive), and how many of that segment's matches were already returned.
   */
  async query(tenant: string, q: AuditQuery): Promise<{ records: AuditRecord[]; cursor?: string }> {
    const earliest = new Date(Date.parse(q.from) - SEGMENT_SPAN_MS).toISOString();
    const lastDay = q.to.slice(0, 10);
    const matches = (r: AuditRecord) =>
      r.time >= q.from &&
      r.time <= q.to &&
      (q.keyId === undefined || r.keyId === q.keyId || (r.keys ?? []).includes(q.keyId)) &&
      (["principalId", "action", "result"] as const).every((f) => q[f] === undefined || r[f] === q[f]);
    let { day, from, skip } = q.cursor ? decodeCursor(q.cursor) : { day: earliest.slice(0, 10), from: earliest, skip: 0 };
    const records: AuditRecord[] = [];
    while (day <= lastDay) {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :p AND gsi1sk BETWEEN :from AND :to",
          ExpressionAttributeValues: marshall({ ":p": `AUDITDAY#${tenant}#${day}`, ":from": from, ":to": `${q.to}~` }),
          Limit: 25,
        }),
      );
      for (const item of (out.Items ?? []).map((i) => unmarshall(i))) {
        const found = recordsOf(item).filter(matches);
        const page = found.slice(skip, skip + q.limit - records.length);
        records.push(...page);
        if (skip + page.length < found.length) return { records, cursor: encodeCursor({ day, from: String(item.gsi1sk), skip: skip + page.length }) };
        // This segment is done: continue just after it.
        from = `${String(item.gsi1sk)}\u0000`;
        skip = 0;
      }
      if (!out.LastEvaluatedKey) {
        day = new Date(Date.parse(day) + DAY_MS).toISOString().slice(0, 10);
        from = earliest;
      }
      if (records.length >= q.limit) break;
    }
    return day <= lastDay ? { records, cursor: encodeCursor({ day, from, skip: 0 }) } : { records };
  }

  /** Every item of one partition (from sort key `from` on), in sort-key order, read consistently. */
  private async partition(pk: string, from?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: from === undefined ? "pk = :p" : "pk = :p AND sk >= :f",
          ExpressionAttributeValues: marshall({ ":p": pk, ...(from === undefined ? {} : { ":f": from }) }),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start as never } : {}),
        }),
      );
      items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

const stripKeys = ({ pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, ...rest }: Record<string, unknown>) => rest;
const encodeCursor = (c: z.infer<typeof Cursor>) => Buffer.from(JSON.stringify(c)).toString("base64url");

/** A cursor is parsed with zod; it only ever selects within the caller's own day partitions, so a forged one reads nothing of another tenant. */
function decodeCursor(cursor: string): z.infer<typeof Cursor> {
  try {
    return Cursor.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new KmsError("ValidationException", "the pagination cursor is invalid");
  }
}
