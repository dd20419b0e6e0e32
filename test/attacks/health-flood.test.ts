import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

const healthCalls = (auditFile: string) => readFileSync(auditFile, "utf8").split("\n").filter((l) => l.includes('"op":"health"')).length;

/**
 * Guarantees attacked: the unauthenticated /health tells a stranger only whether Tether is up,
 * and cannot be used to load the HSM and DynamoDB on everyone's behalf. Each call used to make
 * an HSM round trip and a DynamoDB call and to name the HSM's model and serial.
 */
describe("attack: flooding and reading the unauthenticated /health", () => {
  let stack: TestStack;
  let connector: ConnectorProcess & { auditFile: string };

  beforeAll(async () => {
    stack = await startFunctions();
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("400 concurrent /health calls make at most a couple of HSM calls and do not slow key creation", async () => {
    const before = healthCalls(connector.auditFile);
    const flood = Promise.all(Array.from({ length: 400 }, () => fetch(`${stack.url}/health`).then(async (r) => ({ code: r.status, body: (await r.json()) as Record<string, unknown> }))));
    const started = performance.now();
    const created = await fetch(`${stack.url}/v1/keys`, { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" }, body: "{}" });
    const creationMs = performance.now() - started;
    const answers = await flood;
    expect(created.status).toBe(201);
    expect(creationMs).toBeLessThan(5_000);
    expect(answers.every((a) => a.code === 200 && a.body.status === "ok")).toBe(true);
    // The connector writes its audit line within a turn of its event loop: wait for the count to settle.
    await expect.poll(() => healthCalls(connector.auditFile), { timeout: 2_000 }).toBeGreaterThanOrEqual(before);
    expect(healthCalls(connector.auditFile) - before).toBeLessThanOrEqual(2);
  });

  it("says up or down, and nothing about the HSM, without a credential", async () => {
    const body = (await (await fetch(`${stack.url}/health`)).json()) as Record<string, unknown>;
    expect(body).toEqual({ status: "ok", dynamodb: { status: "up" }, hsm: { status: "up" } });
    const text = JSON.stringify(body);
    for (const secretish of ["SoftHSM", "connectors", "identity", "latencyMs", "keyCache"]) expect(text).not.toContain(secretish);
    // With a credential, the details are there.
    const detail = await fetch(`${stack.url}/v1/health`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({ status: "ok", hsm: { connectors: 1, identity: expect.stringMatching(/^SoftHSM/) }, keyCache: expect.any(Object) });
  });
});
