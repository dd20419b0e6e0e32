import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/local/processes.js";
import { getHealth, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

describe("local stack health (real SoftHSM2 + DynamoDB Local)", () => {
  let stack: TestStack;
  let connector: ConnectorProcess | undefined;

  beforeAll(async () => {
    stack = await startFunctions({ port: await freePort() });
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("reports the HSM down until a connector dials in, then ok with latencies", async () => {
    const before = await getHealth(stack);
    expect(before.code).toBe(200);
    expect(before.body).toMatchObject({ status: "degraded", dynamodb: { status: "up" }, hsm: { status: "down", connectors: 0 } });

    connector = await startConnector(stack);
    const after = await waitForHealth(stack, (h) => h.status === "ok");
    expect(after).toMatchObject({ dynamodb: { status: "up" }, hsm: { status: "up", connectors: 1, rootKeyOk: true } });
    const { body } = await getHealth(stack);
    expect((body as unknown as { dynamodb: { latencyMs: number } }).dynamodb.latencyMs).toBeGreaterThan(0);
    expect((body as unknown as { hsm: { identity: string } }).hsm.identity).toMatch(/^SoftHSM/);
  });

  it("goes degraded when the connector is killed and ok again when one comes back", async () => {
    connector?.child.kill("SIGKILL");
    await connector?.stop();
    const down = await waitForHealth(stack, (h) => h.hsm.status === "down");
    expect(down).toMatchObject({ status: "degraded", hsm: { connectors: 0 } });
    expect((await getHealth(stack)).code).toBe(200);

    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
  });

  it("survives a restart of the functions: the connector redials by itself", async () => {
    const port = Number(new URL(stack.url).port);
    await stack.close();
    stack = await startFunctions({ port, tableName: stack.tableName });
    const h = await waitForHealth(stack, (x) => x.status === "ok", 15_000);
    expect(h.hsm.connectors).toBe(1);
    expect(connector?.child.exitCode).toBeNull();
  });

  it("serves HSM random bytes through the connector to an authenticated caller", async () => {
    const res = await fetch(`${stack.url}/v1/random`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ numberOfBytes: 48 }),
    });
    expect(res.status).toBe(200);
    const a = Buffer.from(((await res.json()) as { plaintext: string }).plaintext, "base64");
    expect(a).toHaveLength(48);
    expect(a.equals(Buffer.alloc(48))).toBe(false);
  });
});

describe("health without DynamoDB", () => {
  it("answers 503 with DynamoDB down when the database is unreachable", async () => {
    const deadPort = await freePort();
    const stack = await startFunctions({ dynamoEndpoint: `http://127.0.0.1:${deadPort}` });
    try {
      const res = await fetch(`${stack.url}/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: "down", dynamodb: { status: "down" }, hsm: { status: "down" } });
    } finally {
      await stack.close();
    }
  });
});
