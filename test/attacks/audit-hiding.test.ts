import { DeleteItemCommand, PutItemCommand, QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoAuditStore } from "../../functions/audit/dynamo-store.js";
import { HsmCheckpointSigner, type CheckpointSigner } from "../../functions/audit/checkpoints.js";
import { genesis, recordHash } from "../../functions/audit/record.js";
import { AuditWriter } from "../../functions/audit/writer.js";
import { createDynamoClient } from "../../functions/db/dynamo-store.js";
import { silentLogger } from "../../shared/log.js";
import { backends, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

type Problem = { seq: number; problem: string; detail: string };
type Report = { ok: boolean; chains: { writer: string; records: number; lastSeq: number; checkpointedSeq: number; problems: Problem[] }[]; problems?: Problem[] };

/**
 * Guarantee attacked: `audit verify` catches an attacker with write access to the table. Hash
 * chains and signed checkpoints catch a record changed or removed in the middle; these attacks
 * go around them: hide a whole chain by deleting what lists it, or delete the checkpoints that
 * vouch for the records one wants to rewrite, so the rewrite shows only as "not yet signed".
 * And a chain whose writer never signs (a frozen Lambda instance, a crashed process) must still
 * end up signed.
 */
describe("attack: hiding audit records from verify (DynamoDB Local, SoftHSM)", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  const db = () => createDynamoClient({ region: "us-east-1", endpoint: backends().dynamoEndpoint });

  beforeAll(async () => {
    // Writers sign every 300 ms; records older than 3 s must be signed; the sweeper signs chains idle for 200 ms.
    stack = await startFunctions({ operator: true, env: { TETHER_AUDIT_CHECKPOINT_MS: "300", TETHER_AUDIT_SIGNED_WITHIN_MS: "3000", TETHER_AUDIT_SIGN_IDLE_MS: "200" } });
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  const verify = async (): Promise<Report> => (await (await fetch(`${stack.url}/v1/audit/verify`, { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as Report;
  const allProblems = (r: Report) => [...(r.problems ?? []), ...r.chains.flatMap((c) => c.problems)];
  const encryptSome = async (n: number) => {
    const res = await fetch(`${stack.url}/v1/keys`, { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" }, body: "{}" });
    const keyId = ((await res.json()) as { keyMetadata: { keyId: string } }).keyMetadata.keyId;
    for (let i = 0; i < n; i++) await fetch(`${stack.url}/v1/keys/${keyId}/encrypt`, { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ plaintext: "aGk=" }) });
  };

  it("a chain whose registry entry is deleted is still found, and reported", async () => {
    await encryptSome(3);
    await stack.server.deps.audit.checkpointNow();
    const before = await verify();
    expect(before.ok).toBe(true);
    const writer = before.chains[0]?.writer as string;
    const client = db();
    try {
      const key = { pk: { S: `AUDITCHAINS#${stack.tenant}` }, sk: { S: writer } };
      const registered = (await client.send(new QueryCommand({ TableName: stack.tableName, KeyConditionExpression: "pk = :p AND sk = :s", ExpressionAttributeValues: { ":p": key.pk, ":s": key.sk } }))).Items?.[0];
      expect(registered).toBeDefined();
      await client.send(new DeleteItemCommand({ TableName: stack.tableName, Key: key }));
      const after = await verify();
      expect(after.ok).toBe(false);
      expect(after.chains.find((c) => c.writer === writer)?.problems).toEqual([expect.objectContaining({ problem: "unregistered" })]);
      await client.send(new PutItemCommand({ TableName: stack.tableName, Item: registered }));
      expect((await verify()).ok).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it("deleted checkpoints are reported, and records left unsigned past the deadline are a problem", async () => {
    await encryptSome(2);
    await stack.server.deps.audit.checkpointNow();
    await encryptSome(2);
    await stack.server.deps.audit.checkpointNow();
    const client = db();
    try {
      // The tenant's checkpoint log, as an attacker with table access sees it: delete its first entry.
      const items = (await client.send(new QueryCommand({ TableName: stack.tableName, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: `AUDITCP#${stack.tenant}` } } }))).Items ?? [];
      expect(items.length).toBeGreaterThan(1);
      const first = items[0] as Record<string, AttributeValue>;
      await client.send(new DeleteItemCommand({ TableName: stack.tableName, Key: { pk: first.pk as AttributeValue, sk: first.sk as AttributeValue } }));
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(allProblems(report).map((p) => p.problem)).toContain("missing-checkpoint");
      await client.send(new PutItemCommand({ TableName: stack.tableName, Item: first }));
    } finally {
      client.destroy();
    }
  });

  it("a writer that freezes after signing its first batch has the rest of its chain signed by the sweeper", async () => {
    const client = db();
    const signer = new HsmCheckpointSigner(stack.server.deps.hsm);
    let freeze = false;
    const freezable: CheckpointSigner = { publicKey: () => signer.publicKey(), sign: (body) => (freeze ? new Promise(() => undefined) : signer.sign(body)) };
    const frozen = new AuditWriter(new DynamoAuditStore(client, stack.tableName), freezable, silentLogger, { checkpointMs: 3_600_000, checkpointEvery: 1_000_000, firstCheckpointWaitMs: 30_000 });
    try {
      for (let i = 0; i < 3; i++) {
        freeze = i > 0; // signs its first batch (answered once signed), then never again
        await frozen.write({ time: new Date().toISOString(), requestId: `frozen-${i}`, tenant: stack.tenant, principalId: "admin", action: "kms:DescribeKey", result: "ok", status: 200, durationMs: 1 });
      }
      // Unsigned and older than the deadline: verify says so.
      await expect.poll(async () => allProblems(await verify()).some((p) => p.problem === "unsigned"), { timeout: 10_000, interval: 250 }).toBe(true);
      await stack.server.deps.sweeper.run(() => ({ requestId: "sweep-test", deadline: Date.now() + 5_000 }));
      const report = await verify();
      const chain = report.chains.find((c) => c.writer === frozen.writer);
      expect(chain).toMatchObject({ lastSeq: 3, checkpointedSeq: 3, problems: [] });
      expect(allProblems(report)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it("a chain planted in the table is never signed by the sweeper: verify keeps reporting it", async () => {
    // An attacker with write access to the table (not to the HSM) registers a writer and writes
    // a well-formed chain of invented records, hoping the sweeper will vouch for it as a dead writer's.
    const client = db();
    try {
      const writer = `planted-${Date.now().toString(36)}`;
      let prev = genesis(stack.tenant, writer);
      const records = [1, 2, 3].map((seq) => {
        const unhashed = { time: new Date(Date.now() - 60_000).toISOString(), requestId: `planted-${seq}`, tenant: stack.tenant, principalId: "admin", action: "kms:ScheduleKeyDeletion", result: "ok", status: 200, durationMs: 1, writer, seq, prev };
        const record = { ...unhashed, hash: recordHash(unhashed) };
        prev = record.hash;
        return record;
      });
      await new DynamoAuditStore(client, stack.tableName).append(records, [{ tenant: stack.tenant, writer, createdAt: records[0]?.time as string }]);
      const planted = async () => (await verify()).chains.find((c) => c.writer === writer);
      expect((await planted())?.problems).toEqual([expect.objectContaining({ problem: "unsigned" })]);
      await stack.server.deps.sweeper.run(() => ({ requestId: "sweep-test", deadline: Date.now() + 5_000 }));
      expect(await planted()).toMatchObject({ checkpointedSeq: 0, problems: [expect.objectContaining({ problem: "unsigned" })] });
    } finally {
      client.destroy();
    }
  });
});
