import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { apiKeyFor, requester, testDeps } from "../../functions/testing.js";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

/**
 * Guarantee attacked: no state change without a durable audit record. Someone who can make the
 * audit store fail (fill it, throttle it, cut it off) must not be able to change keys, policies
 * or credentials unrecorded; and one caller's oversized request must not be able to make the
 * audit batch it shares with other tenants fail.
 */
describe("attack: changing state while the audit trail cannot record it", () => {
  it("a change whose record cannot be made durable does not happen", async () => {
    const t = testDeps();
    const call = requester(createApp(t.deps), await apiKeyFor(t.identity, ["tenantAdmin"]));
    const keyId = (await call("POST", "/v1/keys", { description: "before the outage" })).body.keyMetadata.keyId as string;
    const keysBefore = (await t.keyStore.list("111122223333", 100)).items.length;

    t.audit.failing = "refuse";
    const attempts = [
      await call("POST", "/v1/keys", { description: "unrecorded" }),
      await call("POST", `/v1/keys/${keyId}/disable`),
      await call("POST", `/v1/keys/${keyId}/schedule-deletion`, { pendingWindowInDays: 7 }),
      await call("PUT", `/v1/keys/${keyId}/policy`, { policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" }] } }),
      await call("POST", "/v1/aliases", { aliasName: "alias/unrecorded", targetKeyId: keyId }),
      await call("POST", "/v1/principals", { principalId: "ghost", kind: "user", roles: ["tenantAdmin"] }),
      await call("POST", "/v1/api-keys", { principalId: "ghost" }),
    ];
    t.audit.failing = false;

    for (const a of attempts) expect(a.status).toBeGreaterThanOrEqual(500);
    expect((await t.keyStore.list("111122223333", 100)).items).toHaveLength(keysBefore);
    const key = await t.keyStore.get("111122223333", keyId);
    expect(key).toMatchObject({ state: "Enabled" });
    expect(key?.policyVersion).toBeUndefined();
    expect(await t.keyStore.getAlias("111122223333", "alias/unrecorded")).toBeUndefined();
    expect(await t.identity.getPrincipal("111122223333", "ghost")).toBeUndefined();
    // Once the trail is back, the same changes go through, each with its record.
    expect((await call("POST", `/v1/keys/${keyId}/disable`)).status).toBe(200);
    expect(t.audit.records.filter((r) => r.action === "kms:DisableKey").map((r) => r.result)).toContain("ok");
  });

  it("every record is bounded in size; what was reduced is said", async () => {
    const t = testDeps();
    const call = requester(createApp(t.deps), await apiKeyFor(t.identity, ["tenantAdmin"]));
    const keyId = (await call("POST", "/v1/keys", {})).body.keyMetadata.keyId as string;
    const huge = Object.fromEntries(Array.from({ length: 58 }, (_, i) => [`k${i}`.padEnd(200, "k"), "v".repeat(4096)]));
    expect((await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=", encryptionContext: huge })).status).toBe(200);
    const record = t.audit.records.find((r) => r.action === "kms:Encrypt");
    expect(record).toBeDefined();
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(8 * 1024); // this request reduces to far below MAX_RECORD_BYTES
    expect(record?.reduced).toEqual(["encryptionContext"]);
  });
});

describe("attack: an oversized encryption context failing other tenants' audit batch (DynamoDB Local)", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  let other = "";

  beforeAll(async () => {
    stack = await startFunctions({ operator: true });
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
    const res = await fetch(`${stack.url}/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ name: "bystander" }) });
    other = ((await res.json()) as { adminToken: string }).adminToken;
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("20 requests with ~250 KB contexts and a bystander's requests, all at once, all succeed", async () => {
    const post = (token: string, path: string, body: unknown) =>
      fetch(`${stack.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const keyOf = async (token: string) => ((await (await post(token, "/v1/keys", {})).json()) as { keyMetadata: { keyId: string } }).keyMetadata.keyId;
    const [mine, theirs] = await Promise.all([keyOf(stack.adminToken), keyOf(other)]);
    const huge = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, "v".repeat(4096)]));
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () => post(stack.adminToken, `/v1/keys/${mine}/encrypt`, { plaintext: "aGk=", encryptionContext: huge })),
      ...Array.from({ length: 20 }, () => post(other, `/v1/keys/${theirs}/encrypt`, { plaintext: "aGk=" })),
    ]);
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
  });
});
