import { CreateKeyCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTables, startDynamoLocal, type DynamoLocal } from "../../infra/local/dynamodb.js";
import { freePort } from "../../infra/local/processes.js";
import type { ChildProcess } from "node:child_process";
import { recordChild } from "../support/children.js";
import { startDynamoFaultProxy, type DynamoFaultProxy } from "../support/dynamo-fault-proxy.js";
import { accessKeyFor, backends, expectWholeAudit, exitOf, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

const DEADLINE_MS = 2_000;
/** What a failing request may take beyond its deadline: the error's way back, on 2 busy cores. */
const MARGIN_MS = 1_500;

type Reply = { status: number; type: string | undefined; requestId: string; ms: number; body: Record<string, unknown> };

/**
 * DynamoDB holds every key's metadata and the audit trail. When it stops answering (paused, as by
 * a long GC or a network partition), dies, or throttles, every request must end at its deadline
 * with an error that says so — never hang, never a 500 — change nothing it could not audit, and
 * the audit trail must verify clean once DynamoDB is back. Against a DynamoDB Local of this file's
 * own (the run's shared one is never paused), persistent so that it can be killed and restarted.
 */
describe("fault: DynamoDB paused, killed and restarted, throttling", () => {
  let port: number;
  let dataDir: string;
  let ddb: DynamoLocal & { process: ChildProcess };
  let stack: TestStack;
  let connector: ConnectorProcess;
  let kms: KMSClient;
  let keyId: string;
  let credentials: { accessKeyId: string; secretAccessKey: string };
  /** Every request that got a 2xx: each must have its audit record. */
  const succeeded: string[] = [];

  const startDynamo = async () => {
    ddb = await startDynamoLocal({ dataDir, port });
    recordChild(ddb.process);
  };

  const call = async (method: string, path: string, body?: unknown, url = stack.url): Promise<Reply> => {
    const started = Date.now();
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
      ...(method === "GET" ? {} : { body: JSON.stringify(body ?? {}) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    const requestId = res.headers.get("x-request-id") ?? "";
    if (res.status < 300) succeeded.push(requestId);
    return { status: res.status, type: json.__type as string | undefined, requestId, ms: Date.now() - started, body: json };
  };
  const encrypt = () => call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: Buffer.from("outage").toString("base64") });
  const awsEncrypt = async () => {
    const started = Date.now();
    try {
      await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("outage") }));
      return { name: "ok", status: 200, ms: Date.now() - started };
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      return { name: e.name, status: e.$metadata?.httpStatusCode, ms: Date.now() - started };
    }
  };
  const keyIds = async () => ((await call("GET", "/v1/keys?limit=100")).body.keys as { keyId: string }[]).map((k) => k.keyId).sort();
  const tagsOf = async (id: string) => ((await call("GET", `/v1/keys/${id}`)).body.keyMetadata as { tags: Record<string, string> }).tags;

  /** Verify is clean and every chain signed to its end (a failed batch ends its chains: the writer signs them once it can); every 2xx has its record. */
  const auditIsWhole = () => expectWholeAudit(stack, [...succeeded]);

  beforeAll(async () => {
    port = await freePort();
    dataDir = `${backends().stateDir}/dynamodb-outage`;
    await startDynamo();
    const tables = await ensureTables(ddb.endpoint, "outage");
    stack = await startFunctions({ dynamo: ddb.endpoint, tableName: tables.main as string, requestTimeoutMs: DEADLINE_MS, env: { TETHER_HEALTH_CACHE_MS: "0" } });
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
    credentials = await accessKeyFor(stack);
    kms = new KMSClient({ endpoint: stack.url, region: "us-east-1", credentials, maxAttempts: 1 });
    keyId = ((await call("POST", "/v1/keys", {})).body.keyMetadata as { keyId: string }).keyId;
    expect((await encrypt()).status).toBe(200); // warm: the key's material is cached
    expect((await awsEncrypt()).name).toBe("ok");
  });
  afterAll(async () => {
    if (ddb?.pid) process.kill(ddb.pid, "SIGCONT");
    kms?.destroy();
    await connector?.stop();
    await stack?.close();
    await ddb?.stop();
  });

  it("paused: every request ends at its deadline with 503 DependencyTimeoutException on both doors, changes nothing, and all is well once it resumes", async () => {
    const keysBefore = await keyIds();
    process.kill(ddb.pid, "SIGSTOP");
    let resumed = false;
    try {
      const started = Date.now();
      const [native, aws, created, awsCreated, tagged, health] = await Promise.all([
        Promise.all(Array.from({ length: 8 }, () => encrypt())),
        Promise.all(Array.from({ length: 2 }, () => awsEncrypt())),
        call("POST", "/v1/keys", { description: "made during the outage" }),
        kms.send(new CreateKeyCommand({ Description: "made during the outage" })).then(
          () => "created",
          (err: Error & { $metadata?: { httpStatusCode?: number } }) => `${err.$metadata?.httpStatusCode} ${err.name}`,
        ),
        call("POST", `/v1/keys/${keyId}/tags`, { tags: { outage: "yes" } }),
        fetch(`${stack.url}/health`).then(async (r) => ({ status: r.status, body: (await r.json()) as { status: string }, ms: Date.now() - started })),
      ]);
      for (const r of [...native, created, tagged]) {
        expect({ status: r.status, type: r.type }, JSON.stringify(r.body)).toEqual({ status: 503, type: "DependencyTimeoutException" });
        expect(r.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
      }
      for (const r of aws) {
        expect({ name: r.name, status: r.status }).toEqual({ name: "DependencyTimeoutException", status: 503 });
        expect(r.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
      }
      expect(awsCreated).toBe("503 DependencyTimeoutException");
      expect(health).toMatchObject({ status: 503, body: { status: "down" } });
      expect(health.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    } finally {
      process.kill(ddb.pid, "SIGCONT");
      resumed = true;
    }
    expect(resumed).toBe(true);
    await waitForHealth(stack, (h) => h.status === "ok");
    expect((await encrypt()).status).toBe(200);
    expect((await awsEncrypt()).name).toBe("ok");
    expect(await keyIds()).toEqual(keysBefore);
    expect(await tagsOf(keyId)).not.toHaveProperty("outage");
    await auditIsWhole();
  });

  it("killed: requests fail at once with 503 DependencyUnavailableException; restarted on its data, all is well and verify is clean", async () => {
    const keysBefore = await keyIds();
    process.kill(ddb.pid, "SIGKILL");
    expect((await exitOf(ddb.process)).signal).toBe("SIGKILL");
    const native = await Promise.all(Array.from({ length: 4 }, () => encrypt()));
    for (const r of native) {
      expect({ status: r.status, type: r.type }, JSON.stringify(r.body)).toEqual({ status: 503, type: "DependencyUnavailableException" });
      expect(r.ms).toBeLessThan(DEADLINE_MS);
    }
    expect(await awsEncrypt()).toMatchObject({ name: "DependencyTimeoutException", status: 503 });
    const created = await call("POST", "/v1/keys", { description: "made while DynamoDB was dead" });
    expect({ status: created.status, type: created.type }).toEqual({ status: 503, type: "DependencyUnavailableException" });

    await startDynamo();
    await waitForHealth(stack, (h) => h.status === "ok");
    expect((await encrypt()).status).toBe(200);
    expect(await keyIds()).toEqual(keysBefore);
    await auditIsWhole();
  });

  it("throttling: 429 ThrottlingException on the native API, ThrottlingException on the AWS protocol; none once it stops", async () => {
    let proxy: DynamoFaultProxy | undefined;
    let throttled: TestStack | undefined;
    let throttledConnector: ConnectorProcess | undefined;
    try {
      proxy = await startDynamoFaultProxy(ddb.endpoint);
      // A second instance of the functions over the same tables, whose DynamoDB calls pass the proxy.
      throttled = await startFunctions({ dynamo: ddb.endpoint, dynamoEndpoint: proxy.endpoint, tableName: stack.tableName, tenant: stack.tenant, requestTimeoutMs: DEADLINE_MS });
      throttledConnector = await startConnector(throttled);
      await waitForHealth(throttled, (h) => h.status === "ok");
      const via = throttled.url;
      expect((await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" }, via)).status).toBe(200);
      proxy.throttle(true);
      const answers = await Promise.all(Array.from({ length: 4 }, () => call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" }, via)));
      for (const r of answers) expect({ status: r.status, type: r.type }, JSON.stringify(r.body)).toEqual({ status: 429, type: "ThrottlingException" });
      const awsThrottled = new KMSClient({ endpoint: via, region: "us-east-1", credentials, maxAttempts: 1 });
      try {
        await expect(awsThrottled.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") }))).rejects.toMatchObject({ name: "ThrottlingException" });
      } finally {
        awsThrottled.destroy();
      }
      expect(proxy.throttled).toBeGreaterThan(0);
      proxy.throttle(false);
      expect((await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" }, via)).status).toBe(200);
    } finally {
      // The instance first, while its connector can still sign its last checkpoint.
      await throttled?.close();
      await throttledConnector?.stop();
      await proxy?.close();
    }
    await auditIsWhole();
  });
});
