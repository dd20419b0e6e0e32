/* eslint-disable @typescript-eslint/no-explicit-any -- route tests read JSON response bodies loosely */
import { describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, jsonInit, testDeps } from "../testing.js";

const setup = async () => {
  const t = testDeps();
  const app = createApp(t.deps);
  const admin = await apiKeyFor(t.identity, ["tenantAdmin"]);
  const post = async (path: string, body: unknown = {}, token = admin) => {
    const res = await app.request(path, jsonInit(body, token));
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const get = async (path: string, token = admin) => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  return { t, app, admin, post, get };
};

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("native key API (memory store, MemoryHsm)", () => {
  it("creates a key and round-trips encrypt/decrypt with an encryption context", async () => {
    const { post } = await setup();
    const created = await post("/v1/keys", { description: "orders" });
    expect(created.status).toBe(201);
    expect(created.body.keyMetadata).toMatchObject({ keySpec: "SYMMETRIC_DEFAULT", keyState: "Enabled", description: "orders", currentVersion: 1 });
    const keyId = created.body.keyMetadata.keyId as string;
    expect(created.body.keyMetadata.arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${keyId}`);

    const enc = await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("hello"), encryptionContext: { order: "42" } });
    expect(enc.status).toBe(200);
    const dec = await post("/v1/decrypt", { ciphertextBlob: enc.body.ciphertextBlob, encryptionContext: { order: "42" } });
    expect(dec.status).toBe(200);
    expect(Buffer.from(dec.body.plaintext, "base64").toString()).toBe("hello");
  });

  it("gives one InvalidCiphertextException for a wrong context, tampering, or an unknown key", async () => {
    const { post } = await setup();
    const keyId = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const blob = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x"), encryptionContext: { a: "1" } })).body.ciphertextBlob as string;
    const bytes = Buffer.from(blob, "base64");
    const variants = [
      { ciphertextBlob: blob, encryptionContext: { a: "2" } },
      { ciphertextBlob: blob },
      { ciphertextBlob: Buffer.from(bytes.map((b, i) => (i === bytes.length - 1 ? b ^ 1 : b))).toString("base64"), encryptionContext: { a: "1" } },
      { ciphertextBlob: Buffer.from(bytes.map((b, i) => (i === 5 ? b ^ 1 : b))).toString("base64"), encryptionContext: { a: "1" } },
      { ciphertextBlob: Buffer.from(bytes.map((b, i) => (i === 20 ? b ^ 1 : b))).toString("base64"), encryptionContext: { a: "1" } },
    ];
    for (const body of variants) {
      const res = await post("/v1/decrypt", body);
      expect(res).toEqual({ status: 400, body: { __type: "InvalidCiphertextException", message: expect.any(String) } });
    }
    const messages = new Set<string>();
    for (const body of variants) messages.add((await post("/v1/decrypt", body)).body.message as string);
    expect(messages.size).toBe(1);
  });

  it("refuses an encrypt over 4096 bytes and a decrypt naming the wrong key", async () => {
    const { post } = await setup();
    const a = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const b = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    expect((await post(`/v1/keys/${a}/encrypt`, { plaintext: Buffer.alloc(4097).toString("base64") })).body.__type).toBe("ValidationException");
    const blob = (await post(`/v1/keys/${a}/encrypt`, { plaintext: b64("x") })).body.ciphertextBlob;
    expect((await post("/v1/decrypt", { ciphertextBlob: blob, keyId: b })).body.__type).toBe("IncorrectKeyException");
  });

  it("rotation keeps old ciphertexts decryptable and encrypts under the new version", async () => {
    const { post, get } = await setup();
    const keyId = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const old = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("v1") })).body.ciphertextBlob as string;
    const rotated = await post(`/v1/keys/${keyId}/rotate`);
    expect(rotated.body.keyMetadata.currentVersion).toBe(2);
    const fresh = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("v2") })).body.ciphertextBlob as string;
    expect(Buffer.from(fresh, "base64").readUInt32BE(17)).toBe(2);
    expect(Buffer.from((await post("/v1/decrypt", { ciphertextBlob: old })).body.plaintext, "base64").toString()).toBe("v1");
    expect(Buffer.from((await post("/v1/decrypt", { ciphertextBlob: fresh })).body.plaintext, "base64").toString()).toBe("v2");
    const versions = await get(`/v1/keys/${keyId}/versions`);
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(JSON.stringify(versions.body)).not.toContain("ciphertext");
  });

  it("disable, schedule deletion and cancel follow AWS's state rules", async () => {
    const { post } = await setup();
    const keyId = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const blob = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.ciphertextBlob;
    await post(`/v1/keys/${keyId}/disable`);
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.__type).toBe("DisabledException");
    expect((await post("/v1/decrypt", { ciphertextBlob: blob })).body.__type).toBe("DisabledException");
    expect((await post(`/v1/keys/${keyId}/schedule-deletion`, { pendingWindowInDays: 6 })).body.__type).toBe("ValidationException");
    const scheduled = await post(`/v1/keys/${keyId}/schedule-deletion`, { pendingWindowInDays: 7 });
    expect(scheduled.body.keyMetadata.keyState).toBe("PendingDeletion");
    expect((await post(`/v1/keys/${keyId}/enable`)).status).toBe(409);
    expect((await post("/v1/decrypt", { ciphertextBlob: blob })).body.__type).toBe("KMSInvalidStateException");
    const cancelled = await post(`/v1/keys/${keyId}/cancel-deletion`);
    expect(cancelled.body.keyMetadata).toMatchObject({ keyState: "Disabled" });
    expect(cancelled.body.keyMetadata.deletionDate).toBeUndefined();
    await post(`/v1/keys/${keyId}/enable`);
    expect((await post("/v1/decrypt", { ciphertextBlob: blob })).status).toBe(200);
  });

  it("generates data keys with and without plaintext, and re-encrypts without returning plaintext", async () => {
    const { post } = await setup();
    const a = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const b = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const dk = await post(`/v1/keys/${a}/generate-data-key`, { keySpec: "AES_256", encryptionContext: { app: "x" } });
    expect(Buffer.from(dk.body.plaintext, "base64")).toHaveLength(32);
    const back = await post("/v1/decrypt", { ciphertextBlob: dk.body.ciphertextBlob, encryptionContext: { app: "x" } });
    expect(back.body.plaintext).toBe(dk.body.plaintext);
    const only = await post(`/v1/keys/${a}/generate-data-key-without-plaintext`, { numberOfBytes: 24 });
    expect(only.body.plaintext).toBeUndefined();
    expect(Buffer.from((await post("/v1/decrypt", { ciphertextBlob: only.body.ciphertextBlob })).body.plaintext, "base64")).toHaveLength(24);
    expect((await post(`/v1/keys/${a}/generate-data-key`, {})).body.__type).toBe("ValidationException");

    const re = await post("/v1/re-encrypt", { ciphertextBlob: dk.body.ciphertextBlob, sourceEncryptionContext: { app: "x" }, destinationKeyId: b, destinationEncryptionContext: { app: "y" } });
    expect(re.body.plaintext).toBeUndefined();
    expect(re.body.keyId).toContain(b);
    expect((await post("/v1/decrypt", { ciphertextBlob: re.body.ciphertextBlob, encryptionContext: { app: "y" } })).body.plaintext).toBe(dk.body.plaintext);
  });

  it("keeps tenants apart: another tenant's key does not exist", async () => {
    const { t, post, get } = await setup();
    const keyId = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const blob = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.ciphertextBlob;
    const stranger = await apiKeyFor(t.identity, ["tenantAdmin"], "999988887777");
    expect((await get(`/v1/keys/${keyId}`, stranger)).status).toBe(404);
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") }, stranger)).status).toBe(404);
    expect((await post("/v1/decrypt", { ciphertextBlob: blob }, stranger)).body.__type).toBe("InvalidCiphertextException");
    expect((await get("/v1/keys", stranger)).body.keys).toEqual([]);
  });

  it("lists keys with opaque cursors", async () => {
    const { post, get } = await setup();
    for (let i = 0; i < 5; i++) await post("/v1/keys", { description: `k${i}` });
    const first = await get("/v1/keys?limit=2");
    expect(first.body.keys).toHaveLength(2);
    const seen = [...first.body.keys];
    let cursor = first.body.nextCursor as string | undefined;
    while (cursor) {
      const page = await get(`/v1/keys?limit=2&cursor=${encodeURIComponent(cursor)}`);
      seen.push(...page.body.keys);
      cursor = page.body.nextCursor;
    }
    expect(seen.map((k: { description: string }) => k.description).sort()).toEqual(["k0", "k1", "k2", "k3", "k4"]);
    expect((await get("/v1/keys?limit=0")).status).toBe(400);
  });

  it("lets key users use but not manage keys, and auditors only read", async () => {
    const { t, post, get } = await setup();
    const keyId = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const user = await apiKeyFor(t.identity, ["keyUser"]);
    const auditor = await apiKeyFor(t.identity, ["auditor"]);
    expect((await post("/v1/keys", {}, user)).status).toBe(403);
    expect((await post(`/v1/keys/${keyId}/disable`, {}, user)).status).toBe(403);
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") }, user)).status).toBe(200);
    expect((await get(`/v1/keys/${keyId}`, auditor)).status).toBe(200);
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") }, auditor)).status).toBe(403);
  });
});

describe("asymmetric and HMAC keys (native API)", () => {
  it.each([
    ["RSA_2048", "RSASSA_PSS_SHA_256"],
    ["ECC_NIST_P256", "ECDSA_SHA_256"],
    ["ECC_NIST_P384", "ECDSA_SHA_384"],
  ])("%s: sign, verify, public key", async (keySpec, alg) => {
    const { post, get } = await setup();
    const keyId = (await post("/v1/keys", { keySpec, keyUsage: "SIGN_VERIFY" })).body.keyMetadata.keyId as string;
    const message = b64("release");
    const signed = await post(`/v1/keys/${keyId}/sign`, { message, signingAlgorithm: alg });
    expect(signed.status).toBe(200);
    expect((await post(`/v1/keys/${keyId}/verify`, { message, signature: signed.body.signature, signingAlgorithm: alg })).body.signatureValid).toBe(true);
    expect((await post(`/v1/keys/${keyId}/verify`, { message: b64("other"), signature: signed.body.signature, signingAlgorithm: alg })).body.signatureValid).toBe(false);
    const pub = await get(`/v1/keys/${keyId}/public-key`);
    expect(pub.body).toMatchObject({ keySpec, keyUsage: "SIGN_VERIFY", signingAlgorithms: expect.arrayContaining([alg]) });
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.__type).toBe("InvalidKeyUsageException");
    expect((await post(`/v1/keys/${keyId}/rotate`)).body.__type).toBe("UnsupportedOperationException");
    expect((await post(`/v1/keys/${keyId}/sign`, { message, signingAlgorithm: keySpec.startsWith("RSA") ? "ECDSA_SHA_256" : "RSASSA_PSS_SHA_256" })).body.__type).toBe("ValidationException");
  });

  it("RSA encryption keys: OAEP encrypt and decrypt (keyId and algorithm required)", async () => {
    const { post } = await setup();
    const keyId = (await post("/v1/keys", { keySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" })).body.keyMetadata.keyId as string;
    const enc = await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("wrapped secret"), encryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    expect(enc.status).toBe(200);
    expect((await post("/v1/decrypt", { ciphertextBlob: enc.body.ciphertextBlob, encryptionAlgorithm: "RSAES_OAEP_SHA_256" })).body.__type).toBe("ValidationException");
    const dec = await post("/v1/decrypt", { ciphertextBlob: enc.body.ciphertextBlob, keyId, encryptionAlgorithm: "RSAES_OAEP_SHA_256" });
    expect(Buffer.from(dec.body.plaintext, "base64").toString()).toBe("wrapped secret");
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x".repeat(300)), encryptionAlgorithm: "RSAES_OAEP_SHA_256" })).body.__type).toBe("ValidationException");
    expect((await post("/v1/keys", { keySpec: "ECC_NIST_P256", keyUsage: "ENCRYPT_DECRYPT" })).body.__type).toBe("ValidationException");
  });

  it("HMAC keys: generate and verify MACs, constant-time compare", async () => {
    const { post } = await setup();
    const keyId = (await post("/v1/keys", { keySpec: "HMAC_384" })).body.keyMetadata.keyId as string;
    const message = b64("payload");
    const mac = await post(`/v1/keys/${keyId}/generate-mac`, { message, macAlgorithm: "HMAC_SHA_384" });
    expect(Buffer.from(mac.body.mac, "base64")).toHaveLength(48);
    expect((await post(`/v1/keys/${keyId}/verify-mac`, { message, mac: mac.body.mac, macAlgorithm: "HMAC_SHA_384" })).body.macValid).toBe(true);
    expect((await post(`/v1/keys/${keyId}/verify-mac`, { message: b64("x"), mac: mac.body.mac, macAlgorithm: "HMAC_SHA_384" })).body.macValid).toBe(false);
    expect((await post(`/v1/keys/${keyId}/generate-mac`, { message, macAlgorithm: "HMAC_SHA_256" })).body.__type).toBe("ValidationException");
  });
});

describe("aliases, tags, descriptions and filters", () => {
  it("an alias names a key everywhere a key id goes, is unique, and can be moved or deleted", async () => {
    const { app, admin, post, get } = await setup();
    const a = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const b = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    expect((await post("/v1/aliases", { aliasName: "alias/orders", targetKeyId: a })).status).toBe(201);
    expect((await post("/v1/aliases", { aliasName: "alias/orders", targetKeyId: b })).body.__type).toBe("AlreadyExistsException");
    expect((await post("/v1/aliases", { aliasName: "alias/aws/reserved", targetKeyId: b })).body.__type).toBe("ValidationException");
    expect((await post("/v1/aliases", { aliasName: "orders", targetKeyId: b })).body.__type).toBe("ValidationException");
    const enc = await post(`/v1/keys/${encodeURIComponent("alias/orders")}/encrypt`, { plaintext: b64("via alias") });
    expect(enc.body.keyId).toContain(a);
    expect((await get(`/v1/keys/${encodeURIComponent("arn:aws:kms:us-east-1:111122223333:alias/orders")}`)).body.keyMetadata.keyId).toBe(a);
    const moved = await app.request("/v1/aliases", { method: "PUT", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify({ aliasName: "alias/orders", targetKeyId: b }) });
    expect(moved.status).toBe(200);
    expect((await post(`/v1/keys/${encodeURIComponent("alias/orders")}/encrypt`, { plaintext: b64("x") })).body.keyId).toContain(b);
    expect((await get(`/v1/aliases?keyId=${b}`)).body.aliases.map((x: { aliasName: string }) => x.aliasName)).toEqual(["alias/orders"]);
    const deleted = await app.request("/v1/aliases?aliasName=alias/orders", { method: "DELETE", headers: { authorization: `Bearer ${admin}` } });
    expect(deleted.status).toBe(200);
    expect((await post(`/v1/keys/${encodeURIComponent("alias/orders")}/encrypt`, { plaintext: b64("x") })).status).toBe(404);
  });

  it("tags, untags, updates descriptions and filters lists", async () => {
    const { app, admin, post, get } = await setup();
    const a = (await post("/v1/keys", { tags: { team: "pay" } })).body.keyMetadata.keyId as string;
    await post("/v1/keys", { keySpec: "HMAC_256" });
    expect((await post(`/v1/keys/${a}/tags`, { tags: { env: "prod" } })).body.keyMetadata.tags).toEqual({ team: "pay", env: "prod" });
    expect((await post(`/v1/keys/${a}/untag`, { tagKeys: ["team"] })).body.keyMetadata.tags).toEqual({ env: "prod" });
    const patched = await app.request(`/v1/keys/${a}`, { method: "PATCH", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify({ description: "new" }) });
    expect(((await patched.json()) as { keyMetadata: { description: string } }).keyMetadata.description).toBe("new");
    expect((await get("/v1/keys?tag=env=prod")).body.keys.map((k: { keyId: string }) => k.keyId)).toEqual([a]);
    expect((await get("/v1/keys?keySpec=HMAC_256")).body.keys).toHaveLength(1);
    expect((await get("/v1/keys?state=Disabled")).body.keys).toHaveLength(0);
  });
});

describe("batch encrypt and decrypt", () => {
  it("up to 100 items with per-item results", async () => {
    const { post } = await setup();
    const keyId = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const items = Array.from({ length: 100 }, (_, i) => ({ keyId, plaintext: b64(`item ${i}`), encryptionContext: { i: String(i) } }));
    items[7] = { keyId: "00000000-0000-0000-0000-000000000000", plaintext: b64("x"), encryptionContext: { i: "7" } };
    const enc = await post("/v1/batch/encrypt", { items });
    expect(enc.status).toBe(200);
    expect(enc.body.results).toHaveLength(100);
    expect(enc.body.results[7]).toEqual({ error: { __type: "NotFoundException", message: expect.any(String) } });
    const blobs = enc.body.results.map((r: { ciphertextBlob?: string }, i: number) => ({ ciphertextBlob: r.ciphertextBlob ?? b64("garbage-garbage-garbage-garbage-garbage-garbage-garbage"), encryptionContext: { i: String(i === 3 ? 4 : i) } }));
    const dec = await post("/v1/batch/decrypt", { items: blobs });
    expect(Buffer.from(dec.body.results[42].plaintext, "base64").toString()).toBe("item 42");
    expect(dec.body.results[3].error.__type).toBe("InvalidCiphertextException");
    expect(dec.body.results[7].error.__type).toBe("InvalidCiphertextException");
    expect((await post("/v1/batch/encrypt", { items: [...items, items[0]] })).body.__type).toBe("ValidationException");
    expect((await post("/v1/batch/encrypt", { items: [] })).body.__type).toBe("ValidationException");
  });
});

describe("derived, expiring and exportable keys", () => {
  it("a derived key encrypts under a per-context key: the same context is needed to decrypt", async () => {
    const { post } = await setup();
    const keyId = (await post("/v1/keys", { derived: true })).body.keyMetadata.keyId as string;
    const ctx = b64("customer-42");
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.__type).toBe("ValidationException");
    const blob = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("per customer"), derivationContext: ctx })).body.ciphertextBlob;
    expect(Buffer.from((await post("/v1/decrypt", { ciphertextBlob: blob, derivationContext: ctx })).body.plaintext, "base64").toString()).toBe("per customer");
    expect((await post("/v1/decrypt", { ciphertextBlob: blob, derivationContext: b64("customer-43") })).body.__type).toBe("InvalidCiphertextException");
    const plain = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    expect((await post(`/v1/keys/${plain}/encrypt`, { plaintext: b64("x"), derivationContext: ctx })).body.__type).toBe("ValidationException");
  });

  it("an expired key no longer encrypts or signs, but still decrypts and verifies", async () => {
    const { post, keyStore } = await setupWithStore();
    const keyId = (await post("/v1/keys", { expiresAt: new Date(Date.now() + 60_000).toISOString() })).body.keyMetadata.keyId as string;
    const blob = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("before") })).body.ciphertextBlob;
    const key = (await keyStore.get("111122223333", keyId))!;
    await keyStore.update({ ...key, expiresAt: new Date(Date.now() - 1000).toISOString(), revision: key.revision + 1 });
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("after") })).body.__type).toBe("KMSInvalidStateException");
    expect((await post(`/v1/keys/${keyId}/generate-data-key`, { keySpec: "AES_256" })).body.__type).toBe("KMSInvalidStateException");
    expect(Buffer.from((await post("/v1/decrypt", { ciphertextBlob: blob })).body.plaintext, "base64").toString()).toBe("before");
    expect((await post("/v1/keys", { expiresAt: "2001-01-01T00:00:00Z" })).body.__type).toBe("ValidationException");
  });

  it("exports only keys created exportable, every version", async () => {
    const { post, get } = await setup();
    const exportable = (await post("/v1/keys", { exportable: true })).body.keyMetadata.keyId as string;
    await post(`/v1/keys/${exportable}/rotate`);
    const out = await get(`/v1/keys/${exportable}/export`);
    expect(out.body.versions.map((v: { version: number; material: string }) => [v.version, Buffer.from(v.material, "base64").length])).toEqual([
      [1, 32],
      [2, 32],
    ]);
    const plain = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    expect((await get(`/v1/keys/${plain}/export`)).body.__type).toBe("KMSInvalidStateException");
  });
});

async function setupWithStore() {
  const t = testDeps();
  const app = createApp(t.deps);
  const admin = await apiKeyFor(t.identity, ["tenantAdmin"]);
  const post = async (path: string, body: unknown = {}) => {
    const res = await app.request(path, jsonInit(body, admin));
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  return { post, keyStore: t.keyStore };
}

describe("usage statistics", () => {
  it("counts operations by kind without a write per request, and flushes them to the store", async () => {
    const { t, post, get } = await setup();
    const keyId = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    for (let i = 0; i < 3; i++) await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") });
    const blob = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.ciphertextBlob;
    await post("/v1/decrypt", { ciphertextBlob: blob });
    expect((await t.keyStore.getUsage("111122223333", keyId)).counts).toEqual({});
    const before = await get(`/v1/keys/${keyId}/usage`);
    expect(before.body.counts).toEqual({ Encrypt: 4, Decrypt: 1 });
    await t.deps.keyUsage.flush();
    expect((await t.keyStore.getUsage("111122223333", keyId)).counts).toEqual({ Encrypt: 4, Decrypt: 1 });
    expect((await get(`/v1/keys/${keyId}/usage`)).body).toMatchObject({ counts: { Encrypt: 4, Decrypt: 1 }, lastUsedAt: expect.any(String) });
  });
});

describe("BYOK import", () => {
  it("wrapping public key + import token, then import: the key encrypts with the customer's material", async () => {
    const { post } = await setup();
    const created = await post("/v1/keys", { origin: "EXTERNAL" });
    expect(created.body.keyMetadata).toMatchObject({ origin: "EXTERNAL", keyState: "PendingImport" });
    const keyId = created.body.keyMetadata.keyId as string;
    expect((await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.__type).toBe("KMSInvalidStateException");
    const params = await post(`/v1/keys/${keyId}/import-parameters`);
    expect(params.body.wrappingAlgorithm).toBe("RSAES_OAEP_SHA_256");
    const { publicEncrypt, createPublicKey, constants, randomBytes } = await import("node:crypto");
    const material = randomBytes(32);
    const wrapKey = createPublicKey({ key: Buffer.from(params.body.publicKey, "base64"), format: "der", type: "spki" });
    const encryptedKeyMaterial = publicEncrypt({ key: wrapKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, material).toString("base64");
    const tampered = Buffer.from(params.body.importToken, "base64").toString().replace(/"expiresAt":"\d/, '"expiresAt":"9');
    expect((await post(`/v1/keys/${keyId}/import`, { importToken: Buffer.from(tampered).toString("base64"), encryptedKeyMaterial })).body.__type).toBe("ValidationException");
    const other = (await post("/v1/keys", { origin: "EXTERNAL" })).body.keyMetadata.keyId as string;
    expect((await post(`/v1/keys/${other}/import`, { importToken: params.body.importToken, encryptedKeyMaterial })).body.__type).toBe("ValidationException");
    const imported = await post(`/v1/keys/${keyId}/import`, { importToken: params.body.importToken, encryptedKeyMaterial });
    expect(imported.body.keyMetadata.keyState).toBe("Enabled");
    const blob = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("byok") })).body.ciphertextBlob as string;
    // The ciphertext opens with the customer's own material: the key really is theirs.
    const { createDecipheriv } = await import("node:crypto");
    const raw = Buffer.from(blob, "base64");
    const d = createDecipheriv("aes-256-gcm", material, raw.subarray(21, 33)).setAAD(Buffer.concat([raw.subarray(0, 21), Buffer.from("{}")]));
    d.setAuthTag(raw.subarray(raw.length - 16));
    expect(Buffer.concat([d.update(raw.subarray(33, raw.length - 16)), d.final()]).toString()).toBe("byok");
    expect((await post(`/v1/keys/${keyId}/rotate`)).body.__type).toBe("UnsupportedOperationException");
    expect((await post(`/v1/keys/${keyId}/import`, { importToken: params.body.importToken, encryptedKeyMaterial })).body.__type).toBe("KMSInvalidStateException");
  });
});

describe("wrappingKeyId: a KMS key wrapped by a chosen HSM key", () => {
  it("wraps every version under the tenant's HSM key instead of the root key", async () => {
    const { post, keyStore } = await setupWithStore();
    expect((await post("/v1/hsm-keys", { label: "kek", keySpec: "AES_256" })).status).toBe(201);
    const created = await post("/v1/keys", { wrappingKeyId: "hsm::0::kek" });
    expect(created.body.keyMetadata.wrappingKeyId).toBe("hsm::0::kek");
    const keyId = created.body.keyMetadata.keyId as string;
    const blob = (await post(`/v1/keys/${keyId}/encrypt`, { plaintext: b64("under kek") })).body.ciphertextBlob;
    await post(`/v1/keys/${keyId}/rotate`);
    for (const v of [1, 2]) expect((await keyStore.getVersion("111122223333", keyId, v))?.wrapped).toMatchObject({ rootKeyLabel: "111122223333.kek", slot: "0" });
    expect(Buffer.from((await post("/v1/decrypt", { ciphertextBlob: blob })).body.plaintext, "base64").toString()).toBe("under kek");
    expect((await post("/v1/keys", { wrappingKeyId: "hsm::0::missing" })).body.__type).toBe("NotFoundException");
    expect((await post("/v1/keys", { wrappingKeyId: "not-an-hsm-id" })).body.__type).toBe("ValidationException");
  });
});

describe("data key pairs", () => {
  it.each(["RSA_2048", "ECC_NIST_P256"])("%s: public key, private key in clear and encrypted under the KMS key", async (keyPairSpec) => {
    const { post } = await setup();
    const keyId = (await post("/v1/keys")).body.keyMetadata.keyId as string;
    const out = await post(`/v1/keys/${keyId}/generate-data-key-pair`, { keyPairSpec, encryptionContext: { use: "signing" } });
    expect(out.status).toBe(200);
    const { createPrivateKey, createPublicKey, sign, verify } = await import("node:crypto");
    const priv = createPrivateKey({ key: Buffer.from(out.body.privateKeyPlaintext, "base64"), format: "der", type: "pkcs8" });
    const pub = createPublicKey({ key: Buffer.from(out.body.publicKey, "base64"), format: "der", type: "spki" });
    expect(verify("sha256", Buffer.from("m"), pub, sign("sha256", Buffer.from("m"), priv))).toBe(true);
    const back = await post("/v1/decrypt", { ciphertextBlob: out.body.privateKeyCiphertextBlob, encryptionContext: { use: "signing" } });
    expect(back.body.plaintext).toBe(out.body.privateKeyPlaintext);
    const without = await post(`/v1/keys/${keyId}/generate-data-key-pair-without-plaintext`, { keyPairSpec });
    expect(without.body.privateKeyPlaintext).toBeUndefined();
    expect(without.body.privateKeyCiphertextBlob).toEqual(expect.any(String));
  });
});
