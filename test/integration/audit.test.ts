import { type AttributeValue, DeleteItemCommand, PutItemCommand, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClient } from "../../infra/local/dynamodb.js";
import { rememberSecrets } from "../support/leak-ledger.js";
import { backends, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

type Problem = { seq: number; requestId?: string; problem: string };
type Report = { ok: boolean; problems: Problem[]; chains: { writer: string; records: number; lastSeq: number; checkpointedSeq: number; problems: Problem[] }[] };

describe("audit: one record per request, hash-chained, HSM-signed checkpoints, tampering named (DynamoDB Local, SoftHSM)", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  const db = () => localClient(backends().dynamoEndpoint);

  beforeAll(async () => {
    stack = await startFunctions();
    connector = await startConnector(stack, "audit-signer");
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await stack?.close();
    await connector?.stop();
  });

  const request = (path: string, init: { method?: string; token?: string | undefined; body?: string }) =>
    fetch(`${stack.url}${path}`, {
      method: init.method ?? "POST",
      headers: { "content-type": "application/json", ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
  const verify = async (): Promise<Report> => {
    const res = await request("/v1/audit/verify", { token: stack.adminToken });
    const body = (await res.json()) as Report;
    expect({ status: res.status, body }).toMatchObject({ status: 200 });
    return body;
  };

  it("N requests of every kind (ok, denied, invalid, unknown route, unauthenticated) leave exactly N records, durable before each response", async () => {
    await request("/v1/principals", { token: stack.adminToken, body: JSON.stringify({ principalId: "auditor-1", kind: "user", roles: ["auditor"] }) });
    const auditor = ((await (await request("/v1/api-keys", { token: stack.adminToken, body: JSON.stringify({ principalId: "auditor-1" }) })).json()) as { token: string }).token;
    rememberSecrets(auditor);
    const keyId = ((await (await request("/v1/keys", { token: stack.adminToken, body: "{}" })).json()) as { keyMetadata: { keyId: string } }).keyMetadata.keyId;
    const kinds = [
      () => request(`/v1/keys/${keyId}/encrypt`, { token: stack.adminToken, body: JSON.stringify({ plaintext: "aGk=", encryptionContext: { order: "42" } }) }),
      () => request(`/v1/keys/${keyId}/encrypt`, { token: auditor, body: JSON.stringify({ plaintext: "aGk=" }) }),
      () => request(`/v1/keys/${keyId}/encrypt`, { token: stack.adminToken, body: "{not json" }),
      () => request("/v1/no-such-thing", { token: stack.adminToken, body: "{}" }),
      () => request(`/v1/keys/${keyId}/encrypt`, { token: undefined, body: "{}" }),
      () => request(`/v1/keys`, { method: "GET", token: stack.adminToken }),
    ];
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => (kinds[i % kinds.length] as () => Promise<Response>)()));
    expect([...new Set(responses.map((r) => r.status))]).toEqual(expect.arrayContaining([200, 403, 400, 404, 401]));
    const ids = responses.map((r) => r.headers.get("x-request-id") as string);
    // Durable before each response: read the table right away, no waiting.
    const client = db();
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: stack.tableName, FilterExpression: "begins_with(pk, :a)", ExpressionAttributeValues: { ":a": { S: "AUDIT#" } }, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
      // Each item is a segment: consecutive records of one chain, written by one group commit.
      items.push(...(page.Items ?? []).flatMap((i) => JSON.parse(String(unmarshall(i).records)) as Record<string, unknown>[]));
      start = page.LastEvaluatedKey;
    } while (start);
    client.destroy();
    const perRequest = new Map<string, number>();
    for (const item of items) perRequest.set(String(item.requestId), (perRequest.get(String(item.requestId)) ?? 0) + 1);
    expect(ids.map((id) => perRequest.get(id) ?? 0)).toEqual(Array(60).fill(1));
    const encrypts = items.filter((i) => ids.includes(String(i.requestId)) && i.action === "kms:Encrypt" && i.result === "ok");
    expect(encrypts).toHaveLength(10);
    expect(encrypts[0]).toMatchObject({ tenant: stack.tenant, principalId: "admin", keyId, encryptionContext: { order: "42" }, status: 200 });
    expect(items.filter((i) => ids.includes(String(i.requestId)) && i.result === "AuthenticationFailedException").every((i) => i.tenant === "-")).toBe(true);

    const query = (q: string) => request(`/v1/audit/records?${q}`, { method: "GET", token: auditor }).then(async (r) => ({ status: r.status, body: (await r.json()) as { records: { requestId: string; result: string }[]; nextCursor?: string } }));
    const denied = await query("result=AccessDeniedException&limit=1000");
    expect(denied.body.records.filter((r) => ids.includes(r.requestId))).toHaveLength(10);
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await query(`action=kms:Encrypt&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      pages.push(...page.body.records.map((r) => r.requestId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(pages).size).toBe(pages.length);
    // Allowed and denied encrypts; the invalid and unauthenticated ones never reached the route, so they are recorded under what was asked.
    expect(pages.filter((id) => ids.includes(id))).toHaveLength(20);
    const refused = await query(`action=${encodeURIComponent(`POST /v1/keys/${keyId}/encrypt`)}&limit=1000`);
    expect(refused.body.records.filter((r) => ids.includes(r.requestId)).map((r) => r.result).sort()).toEqual([...Array(10).fill("ValidationException")]);
    expect((await query("cursor=eyJkYXkiOiIyMDI2LTAxLTAxIiwia2V5Ijp7InBrIjoiQVVESVQjOTk5In19")).status).toBe(400);
  });

  it("verify passes on the untouched trail with checkpoints signed in the HSM, and names a modified, a deleted and a re-ordered record and a forged checkpoint", async () => {
    await stack.server.deps.audit.checkpointNow();
    const clean = await verify();
    expect(clean.ok).toBe(true);
    const chain = [...clean.chains].sort((x, y) => y.records - x.records)[0];
    if (!chain || chain.records < 11) throw new Error(`no chain long enough: ${JSON.stringify(clean)}`);
    expect(chain.checkpointedSeq).toBeGreaterThanOrEqual(chain.lastSeq - 1);
    const pk = `AUDIT#${stack.tenant}#${chain.writer}`;
    const client = db();
    try {
      // The chain's segments as stored, and a way to rewrite the records they hold, as an attacker with table access would.
      const segments = async () =>
        ((await client.send(new QueryCommand({ TableName: stack.tableName, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: pk } }, ConsistentRead: true }))).Items ?? []) as (Record<string, AttributeValue> & { records: { S: string } })[];
      const original = await segments();
      // Puts the original segments back (the verify calls meanwhile append segments of their own, which stay).
      const restore = async () => {
        for (const item of original) await client.send(new PutItemCommand({ TableName: stack.tableName, Item: item }));
      };
      type Rec = { seq: number; result: string };
      const rewrite = async (edit: (records: Rec[]) => Rec[]) => {
        for (const item of await segments()) {
          const records = JSON.parse(item.records.S) as Rec[];
          const edited = edit(records);
          if (JSON.stringify(edited) !== item.records.S) await client.send(new PutItemCommand({ TableName: stack.tableName, Item: { ...item, records: { S: JSON.stringify(edited) } } }));
        }
      };
      const problems = async () => (await verify()).chains.find((c) => c.writer === chain.writer)?.problems ?? [];

      await rewrite((rs) => rs.map((r) => (r.seq === 5 ? { ...r, result: "tampered" } : r)));
      expect(await problems()).toEqual([expect.objectContaining({ seq: 5, problem: "modified" })]);
      await restore();

      await rewrite((rs) => rs.filter((r) => r.seq !== 7));
      expect(await problems()).toEqual([expect.objectContaining({ seq: 7, problem: "missing" })]);
      await restore();

      // Records 9 and 10 trade places (within a segment, or across two).
      const [nine, ten] = original.flatMap((i) => JSON.parse(i.records.S) as Rec[]).filter((r) => r.seq === 9 || r.seq === 10);
      await rewrite((rs) => rs.map((r) => (r.seq === 9 ? (ten as Rec) : r.seq === 10 ? (nine as Rec) : r)));
      const reordered = await problems();
      expect(reordered.map((p) => p.problem)).toContain("reordered");
      expect(reordered.map((p) => p.seq)).toEqual(expect.arrayContaining([9, 10]));
      await restore();

      // A whole segment deleted (the first; others follow it): its records are reported missing.
      expect(original.length).toBeGreaterThan(1);
      const doomed = original[0] as (typeof original)[number];
      const doomedSeqs = (JSON.parse(doomed.records.S) as Rec[]).map((r) => r.seq);
      await client.send(new DeleteItemCommand({ TableName: stack.tableName, Key: { pk: doomed.pk as AttributeValue, sk: doomed.sk as AttributeValue } }));
      const gone = await problems();
      expect(gone.filter((p) => p.problem === "missing").map((p) => p.seq)).toContain(doomedSeqs[0]);
      await restore();
      expect(await problems()).toEqual([]);

      // A checkpoint appended to the tenant's log with an edited head: its signature no longer verifies.
      const checkpoints = await client.send(new QueryCommand({ TableName: stack.tableName, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: `AUDITCP#${stack.tenant}` } }, ConsistentRead: true }));
      const last = checkpoints.Items?.at(-1) as Record<string, { S?: string; N?: string }>;
      const n = Number(last.n?.N) + 1;
      await client.send(new PutItemCommand({ TableName: stack.tableName, Item: { ...last, sk: { S: String(n).padStart(12, "0") }, n: { N: String(n) }, seq: { N: "999999" } } as never }));
      const forged = await verify();
      expect(forged.problems).toEqual([expect.objectContaining({ seq: n, problem: "forged-checkpoint" })]);
      expect(forged.chains.find((c) => c.writer === chain.writer)?.problems).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});
