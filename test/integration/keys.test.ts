import { readFileSync } from "node:fs";
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoKeyStore } from "../../functions/keys/dynamo-store.js";
import { localClient } from "../../infra/local/dynamodb.js";
import { backends, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";
import { rememberSecrets } from "../support/leak-ledger.js";
import { waitFor } from "../../infra/local/processes.js";

type Json = Record<string, unknown> & { keyMetadata?: { keyId: string; keyState: string; accountId: string }; ciphertextBlob?: string; plaintext?: string; __type?: string };

const api = (stack: TestStack) => async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
    ...(method === "GET" ? {} : { body: JSON.stringify(body ?? {}) }),
  });
  return { status: res.status, body: (await res.json()) as Json };
};
const b64 = (s: string) => Buffer.from(s).toString("base64");
const unwrapsIn = (auditFile: string) => readFileSync(auditFile, "utf8").split("\n").filter((l) => l.includes('"op":"unwrap"')).length;
/** The unwraps the connector made since `before`, once its audit file shows at least one (it appends as it goes). */
const newUnwraps = async (auditFile: string, before: number) => {
  await waitFor(async () => expect(unwrapsIn(auditFile)).toBeGreaterThan(before), { timeoutMs: 5_000, what: "the connector's audit of the unwrap" });
  return unwrapsIn(auditFile) - before;
};

describe("keys and cryptography over HTTP, on SoftHSM2 and DynamoDB Local", () => {
  let stack: TestStack;
  let connector: ConnectorProcess & { auditFile: string };
  const db = () => localClient(backends().dynamoEndpoint);

  beforeAll(async () => {
    stack = await startFunctions({ metadataTtlMs: 300 });
    connector = await startConnector(stack, "keys-1");
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("200 concurrent requests on a cold key make exactly one unwrap call to the HSM", async () => {
    const call = api(stack);
    const keyId = (await call("POST", "/v1/keys", { description: "cold" })).body.keyMetadata?.keyId as string;
    const before = unwrapsIn(connector.auditFile);
    const loadsBefore = stack.server.deps.keyCache.stats().loads;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64(`m${i}`) })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(stack.server.deps.keyCache.stats().loads - loadsBefore).toBe(1);
    expect(await newUnwraps(connector.auditFile, before)).toBe(1);
    const back = await call("POST", "/v1/decrypt", { ciphertextBlob: results[17]?.body.ciphertextBlob });
    expect(Buffer.from(back.body.plaintext as string, "base64").toString()).toBe("m17");
  });

  it("a restarted function (cold cache) still decrypts, unwrapping through the connector", async () => {
    const call = api(stack);
    const keyId = (await call("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    rememberSecrets("survives restarts");
    const encrypted = await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("survives restarts") });
    const blob = encrypted.body.ciphertextBlob;
    const port = Number(new URL(stack.url).port);
    const token = stack.adminToken;
    await stack.close();
    stack = { ...(await startFunctions({ port, tableName: stack.tableName, metadataTtlMs: 300 })), adminToken: token };
    await waitForHealth(stack, (h) => h.status === "ok");
    const before = unwrapsIn(connector.auditFile);
    const back = await api(stack)("POST", "/v1/decrypt", { ciphertextBlob: blob });
    expect(Buffer.from(back.body.plaintext as string, "base64").toString()).toBe("survives restarts");
    expect(await newUnwraps(connector.auditFile, before)).toBe(1);
  });

  it("a disabled key stops working on another function instance within the metadata TTL", async () => {
    const other = { ...(await startFunctions({ tableName: stack.tableName, metadataTtlMs: 300 })), adminToken: stack.adminToken };
    const otherConnector = await startConnector(other, "keys-2");
    try {
      await waitForHealth(other, (h) => h.status === "ok");
      const keyId = (await api(stack)("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
      expect((await api(other)("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).status).toBe(200);
      await api(stack)("POST", `/v1/keys/${keyId}/disable`);
      const disabledAt = Date.now();
      await waitFor(async () => expect((await api(other)("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.__type).toBe("DisabledException"), { timeoutMs: 2_000, what: "the Disable on the other instance", intervalMs: 20 });
      expect(Date.now() - disabledAt).toBeLessThan(300 + 200);
    } finally {
      await otherConnector.stop();
      await other.close();
    }
  });

  it("a wrapped blob copied onto another key's record fails to unwrap", async () => {
    const call = api(stack);
    const created = (await call("POST", "/v1/keys")).body.keyMetadata;
    const a = created?.keyId as string;
    const b = (await call("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    const client = db();
    const item = (keyId: string) => ({ pk: `KEY#${created?.accountId}#${keyId}`, sk: "V#0000000001" });
    const source = await client.send(new GetItemCommand({ TableName: stack.tableName, Key: marshall(item(a)) }));
    const target = await client.send(new GetItemCommand({ TableName: stack.tableName, Key: marshall(item(b)) }));
    const moved = { ...unmarshall(target.Item ?? {}), wrapped: unmarshall(source.Item ?? {}).wrapped };
    await client.send(new PutItemCommand({ TableName: stack.tableName, Item: marshall(moved, { removeUndefinedValues: true }) }));
    client.destroy();
    const res = await call("POST", `/v1/keys/${b}/encrypt`, { plaintext: b64("x") });
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe("InvalidCiphertextException");
    expect((await call("POST", `/v1/keys/${a}/encrypt`, { plaintext: b64("x") })).status).toBe(200);
  });

  it("concurrent rotations each add a version (none lost); old ciphertexts still decrypt", async () => {
    const call = api(stack);
    const keyId = (await call("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    const old = (await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("before") })).body.ciphertextBlob;
    const rotations = await Promise.all(Array.from({ length: 4 }, () => call("POST", `/v1/keys/${keyId}/rotate`)));
    expect(rotations.every((r) => r.status === 200)).toBe(true);
    const versions = (await call("GET", `/v1/keys/${keyId}/versions`)).body.versions as { version: number }[];
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
    expect(Buffer.from((await call("POST", "/v1/decrypt", { ciphertextBlob: old })).body.plaintext as string, "base64").toString()).toBe("before");
  });

  it("scheduled deletion blocks use; past the window the key is destroyed and its material shredded", async () => {
    const call = api(stack);
    const created = (await call("POST", "/v1/keys")).body.keyMetadata;
    const keyId = created?.keyId as string;
    const pk = `KEY#${created?.accountId}#${keyId}`;
    const blob = (await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("doomed") })).body.ciphertextBlob;
    expect((await call("POST", `/v1/keys/${keyId}/schedule-deletion`, { pendingWindowInDays: 7 })).body.keyMetadata?.keyState).toBe("PendingDeletion");
    expect((await call("POST", "/v1/decrypt", { ciphertextBlob: blob })).body.__type).toBe("KMSInvalidStateException");
    // Seven days pass: move the deletion date into the past.
    const client = db();
    await client.send(
      new UpdateItemCommand({
        TableName: stack.tableName,
        Key: marshall({ pk, sk: "META" }),
        UpdateExpression: "SET deletionDate = :past",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: marshall({ ":past": new Date(Date.now() - 1000).toISOString() }),
      }),
    );
    // Within the metadata TTL (300 ms), the key is seen past its window.
    await waitFor(async () => expect((await call("POST", "/v1/decrypt", { ciphertextBlob: blob })).body.__type).toBe("NotFoundException"), { timeoutMs: 2_000, what: "the deletion date to be seen" });
    expect((await call("GET", `/v1/keys/${keyId}`)).body.keyMetadata?.keyState).toBe("Destroyed");
    const v1 = await client.send(new GetItemCommand({ TableName: stack.tableName, Key: marshall({ pk, sk: "V#0000000001" }), ConsistentRead: true }));
    expect(unmarshall(v1.Item ?? {}).wrapped).toBeUndefined();
    client.destroy();
    expect((await call("POST", `/v1/keys/${keyId}/cancel-deletion`)).status).toBe(409);
  });

  it("asymmetric and HMAC keys: private material wrapped by the HSM, signing and MACs in software", async () => {
    const call = api(stack);
    const signer = (await call("POST", "/v1/keys", { keySpec: "ECC_NIST_P384", keyUsage: "SIGN_VERIFY" })).body.keyMetadata?.keyId as string;
    const message = b64("artifact digest");
    const sig = await call("POST", `/v1/keys/${signer}/sign`, { message, signingAlgorithm: "ECDSA_SHA_384" });
    expect(sig.status).toBe(200);
    expect((await call("POST", `/v1/keys/${signer}/verify`, { message, signature: sig.body.signature, signingAlgorithm: "ECDSA_SHA_384" })).body.signatureValid).toBe(true);
    const hmac = (await call("POST", "/v1/keys", { keySpec: "HMAC_256" })).body.keyMetadata?.keyId as string;
    const mac = await call("POST", `/v1/keys/${hmac}/generate-mac`, { message, macAlgorithm: "HMAC_SHA_256" });
    expect((await call("POST", `/v1/keys/${hmac}/verify-mac`, { message, mac: mac.body.mac, macAlgorithm: "HMAC_SHA_256" })).body.macValid).toBe(true);
  });

  it("aliases are unique per tenant in DynamoDB and resolve to their key", async () => {
    const call = api(stack);
    const a = (await call("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    const results = await Promise.all(Array.from({ length: 5 }, () => call("POST", "/v1/aliases", { aliasName: "alias/race", targetKeyId: a })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.body.__type === "AlreadyExistsException")).toHaveLength(4);
    const enc = await call("POST", `/v1/keys/${encodeURIComponent("alias/race")}/encrypt`, { plaintext: b64("x") });
    expect(String(enc.body.keyId)).toContain(a);
    expect(((await call("GET", "/v1/aliases")).body.aliases as { aliasName: string }[]).map((x) => x.aliasName)).toContain("alias/race");
  });

  it("usage counts land in DynamoDB with atomic increments", async () => {
    const call = api(stack);
    const keyId = (await call("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    await Promise.all(Array.from({ length: 7 }, () => call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })));
    await stack.server.deps.keyUsage.flush();
    await Promise.all(Array.from({ length: 3 }, () => call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })));
    await stack.server.deps.keyUsage.flush();
    expect((await call("GET", `/v1/keys/${keyId}/usage`)).body.counts).toEqual({ Encrypt: 10 });
    const health = (await (await fetch(`${stack.url}/v1/health`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as { keyCache: { hits: number; loads: number } };
    expect(health.keyCache.hits).toBeGreaterThan(0);
    expect(health.keyCache.loads).toBeGreaterThan(0);
  });

  it("usage counted but not yet written reaches DynamoDB when the functions shut down", async () => {
    const created = (await api(stack)("POST", "/v1/keys")).body.keyMetadata;
    const [keyId, tenant] = [created?.keyId as string, created?.accountId as string];
    await Promise.all(Array.from({ length: 4 }, () => api(stack)("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })));
    const port = Number(new URL(stack.url).port);
    const token = stack.adminToken;
    await stack.close();
    expect((await new DynamoKeyStore(db(), stack.tableName).getUsage(tenant, keyId)).counts).toEqual({ Encrypt: 4 });
    stack = { ...(await startFunctions({ port, tableName: stack.tableName, tenant: stack.tenant, metadataTtlMs: 300 })), adminToken: token };
    await waitForHealth(stack, (h) => h.status === "ok");
  });

  it("BYOK on the real HSM: the import token's private key is wrapped by the root key", async () => {
    const { publicEncrypt, createPublicKey, constants, randomBytes } = await import("node:crypto");
    const call = api(stack);
    const keyId = (await call("POST", "/v1/keys", { origin: "EXTERNAL" })).body.keyMetadata?.keyId as string;
    const params = (await call("POST", `/v1/keys/${keyId}/import-parameters`)).body as { publicKey: string; importToken: string };
    expect(Buffer.from(params.importToken, "base64").toString()).not.toContain("PRIVATE KEY");
    const wrapKey = createPublicKey({ key: Buffer.from(params.publicKey, "base64"), format: "der", type: "spki" });
    const encryptedKeyMaterial = publicEncrypt({ key: wrapKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, randomBytes(32)).toString("base64");
    expect((await call("POST", `/v1/keys/${keyId}/import`, { importToken: params.importToken, encryptedKeyMaterial })).body.keyMetadata?.keyState).toBe("Enabled");
    const blob = (await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("imported") })).body.ciphertextBlob;
    expect(Buffer.from((await call("POST", "/v1/decrypt", { ciphertextBlob: blob })).body.plaintext as string, "base64").toString()).toBe("imported");
  });

  it("encryptions are reserved per version in DynamoDB in blocks, with atomic increments", async () => {
    const call = api(stack);
    const created = (await call("POST", "/v1/keys")).body.keyMetadata;
    const tenant = created?.accountId as string;
    const keyId = created?.keyId as string;
    for (let i = 0; i < 5; i++) await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") });
    const client = db();
    const store = new DynamoKeyStore(client, stack.tableName);
    // Five encryptions took one default block of 100,000; two concurrent reservations both land.
    const totals = await Promise.all([store.reserveEncryptions(tenant, keyId, 1, 1000), store.reserveEncryptions(tenant, keyId, 1, 1000)]);
    expect(totals.sort()).toEqual([101_000, 102_000]);
    client.destroy();
  });

  it("API keys: created with the secret shown once, listed from DynamoDB by tenant, revoked", async () => {
    const call = api(stack);
    expect((await call("POST", "/v1/principals", { principalId: "svc-orders", kind: "service", roles: ["keyUser"] })).status).toBe(201);
    const created = (await call("POST", "/v1/api-keys", { principalId: "svc-orders" })).body as unknown as { apiKey: { id: string }; token: string };
    rememberSecrets(created.token);
    const listed = (await (await fetch(`${stack.url}/v1/api-keys`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as { apiKeys: { id: string }[] };
    expect(listed.apiKeys.map((k) => k.id)).toContain(created.apiKey.id);
    const res = await fetch(`${stack.url}/v1/random`, { method: "POST", headers: { authorization: `Bearer ${created.token}`, "content-type": "application/json" }, body: '{"numberOfBytes":4}' });
    expect(res.status).toBe(200);
    const del = await fetch(`${stack.url}/v1/api-keys/${created.apiKey.id}`, { method: "DELETE", headers: { authorization: `Bearer ${stack.adminToken}` } });
    expect(del.status).toBe(200);
    const after = await fetch(`${stack.url}/v1/random`, { method: "POST", headers: { authorization: `Bearer ${created.token}`, "content-type": "application/json" }, body: '{"numberOfBytes":4}' });
    expect(after.status).toBe(401);
  });

  it("oversized or forged identifiers are refused before they reach DynamoDB (never a 500)", async () => {
    const call = api(stack);
    const longAlias = encodeURIComponent(`alias/${"a".repeat(3000)}`);
    // A key reference over 2048 characters is refused by its shape (as AWS KMS does), before any lookup.
    expect((await call("POST", `/v1/keys/${longAlias}/encrypt`, { plaintext: b64("x") })).body).toMatchObject({ __type: "ValidationException", message: expect.stringContaining("keyId") });
    const forged = Buffer.from(JSON.stringify({ pk: "KEY#000000000000#x", sk: "META", gsi1pk: "TENANT#000000000000#KEYS", gsi1sk: "x" })).toString("base64url");
    expect((await call("GET", `/v1/keys?cursor=${forged}`)).body.__type).toBe("ValidationException");
    expect((await call("GET", `/v1/keys?cursor=${Buffer.from('{"foo":1}').toString("base64url")}`)).body.__type).toBe("ValidationException");
    const del = await fetch(`${stack.url}/v1/api-keys/${"f".repeat(3000)}`, { method: "DELETE", headers: { authorization: `Bearer ${stack.adminToken}` } });
    expect(del.status).toBe(404);
    const page = (await call("GET", "/v1/keys?limit=1")).body as { nextCursor?: string };
    expect((await call("GET", `/v1/keys?limit=1&cursor=${page.nextCursor}`)).status).toBe(200);
  });
});
