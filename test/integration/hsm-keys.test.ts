import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { RemoteHsm } from "../../functions/tunnel/remote-hsm.js";
import { ensureAdminApiKey, randomTenantId } from "../../infra/local/bootstrap.js";
import { localClient } from "../../infra/local/dynamodb.js";
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GetPublicKeyCommand, KMSClient, SignCommand, VerifyCommand } from "@aws-sdk/client-kms";
import { accessKeyFor, backends, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";
import { rememberSecrets } from "../support/leak-ledger.js";

type Json = Record<string, unknown> & { __type?: string };

describe("HSM-resident keys over HTTP (hsm::<slot>::<label>, proxied to the connector)", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  const call = (token: string) => async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(method === "GET" || method === "DELETE" ? {} : { body: JSON.stringify(body ?? {}) }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  /** Moves a key's deletion date into the past (as DynamoDB holds it days later), then lets the sweeper run. */
  const windowPassed = async (keyId: string) => {
    const client = localClient(backends().dynamoEndpoint);
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: stack.tableName,
          Key: marshall({ pk: `KEY#${stack.tenant}#${keyId}`, sk: "META" }),
          UpdateExpression: "SET deletionDate = :past",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: marshall({ ":past": new Date(Date.now() - 1000).toISOString() }),
        }),
      );
    } finally {
      client.destroy();
    }
    const swept = await stack.server.deps.sweeper.run(() => ({ requestId: "hsm-keys-sweep", deadline: Date.now() + 10_000 }));
    expect(swept.destroyed).toContain(keyId);
  };

  beforeAll(async () => {
    stack = await startFunctions({ operator: true });
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("AES: create, list, encrypt and decrypt with a context, destroy", async () => {
    const api = call(stack.adminToken);
    const created = await api("POST", "/v1/hsm-keys", { label: "orders", keySpec: "AES_256" });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatchObject({ keyId: "hsm::0::orders", keySpec: "AES_256", sensitive: true });
    expect((await api("POST", "/v1/hsm-keys", { label: "orders", keySpec: "AES_256" })).body.__type).toBe("AlreadyExistsException");
    expect(((await api("GET", "/v1/hsm-keys")).body.keys as { keyId: string }[]).map((k) => k.keyId)).toContain("hsm::0::orders");

    rememberSecrets("in the HSM");
    const enc = await api("POST", "/v1/hsm-keys/hsm::0::orders/encrypt", { plaintext: Buffer.from("in the HSM").toString("base64"), encryptionContext: { a: "1" } });
    expect(enc.status).toBe(200);
    const dec = await api("POST", "/v1/hsm-keys/hsm::0::orders/decrypt", { ciphertextBlob: enc.body.ciphertextBlob, encryptionContext: { a: "1" } });
    expect(Buffer.from(dec.body.plaintext as string, "base64").toString()).toBe("in the HSM");
    const wrongContext = await api("POST", "/v1/hsm-keys/hsm::0::orders/decrypt", { ciphertextBlob: enc.body.ciphertextBlob, encryptionContext: { a: "2" } });
    expect(wrongContext).toMatchObject({ status: 400, body: { __type: "InvalidCiphertextException" } });

    // Deletion is scheduled: unusable at once, destroyed in the HSM once the window has passed.
    expect((await api("DELETE", "/v1/hsm-keys/hsm::0::orders")).body.keyMetadata).toMatchObject({ keyState: "PendingDeletion" });
    expect((await api("POST", "/v1/hsm-keys/hsm::0::orders/encrypt", { plaintext: "eA==" })).body.__type).toBe("KMSInvalidStateException");
    await windowPassed("hsm::0::orders");
    expect((await api("POST", "/v1/hsm-keys/hsm::0::orders/encrypt", { plaintext: "eA==" })).body.__type).toBe("NotFoundException");
    expect((await stack.server.deps.hsmKeys.list({ tenant: stack.tenant, principalId: "admin", roles: ["tenantAdmin"], credentialId: "t" }, "0", 1000)).keys.map((k) => k.keyId)).not.toContain("hsm::0::orders");
    const inHsm = await new RemoteHsm(stack.server.hub).listKeys("0", { requestId: "hsm-keys-test", deadline: Date.now() + 5_000 });
    expect(inHsm.map((k) => k.label)).not.toContain(`${stack.tenant}.orders`);
  });

  it("RSA and ECC: public key, sign and verify (checked with node:crypto too)", async () => {
    const api = call(stack.adminToken);
    for (const [label, keySpec, alg] of [
      ["signer-rsa", "RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"],
      ["signer-ec", "ECC_NIST_P256", "ECDSA_SHA_256"],
    ] as const) {
      expect((await api("POST", "/v1/hsm-keys", { label, keySpec, keyUsage: "SIGN_VERIFY" })).status).toBe(201);
      const spki = createPublicKey({ key: Buffer.from((await api("GET", `/v1/hsm-keys/hsm::0::${label}/public-key`)).body.publicKey as string, "base64"), format: "der", type: "spki" });
      const message = Buffer.from("release v1.2.3").toString("base64");
      const sig = (await api("POST", `/v1/hsm-keys/hsm::0::${label}/sign`, { message, signingAlgorithm: alg })).body.signature as string;
      expect(nodeVerify("sha256", Buffer.from("release v1.2.3"), { key: spki, dsaEncoding: "der" }, Buffer.from(sig, "base64"))).toBe(true);
      expect((await api("POST", `/v1/hsm-keys/hsm::0::${label}/verify`, { message, signature: sig, signingAlgorithm: alg })).body.signatureValid).toBe(true);
      expect((await api("POST", `/v1/hsm-keys/hsm::0::${label}/verify`, { message: "b3RoZXI=", signature: sig, signingAlgorithm: alg })).body.signatureValid).toBe(false);
      await api("DELETE", `/v1/hsm-keys/hsm::0::${label}`);
    }
  });

  it("through the AWS protocol too (@aws-sdk/client-kms): DescribeKey, Encrypt/Decrypt, Sign/Verify and GetPublicKey on hsm:: keys", async () => {
    const api = call(stack.adminToken);
    expect((await api("POST", "/v1/hsm-keys", { label: "aws-aes", keySpec: "AES_256" })).status).toBe(201);
    expect((await api("POST", "/v1/hsm-keys", { label: "aws-ec", keySpec: "ECC_NIST_P256" })).status).toBe(201);
    expect((await api("POST", "/v1/hsm-keys", { label: "aws-rsa", keySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" })).status).toBe(201);
    const kms = new KMSClient({ endpoint: stack.url, region: "us-east-1", credentials: await accessKeyFor(stack), maxAttempts: 1 });
    try {
      const described = (await kms.send(new DescribeKeyCommand({ KeyId: "hsm::0::aws-aes" }))).KeyMetadata;
      expect(described).toMatchObject({ KeyId: "hsm::0::aws-aes", KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT", Origin: "AWS_CLOUDHSM", KeyState: "Enabled" });

      const context = { purpose: "aws-door" };
      const plaintext = Buffer.from("sealed by the HSM through the AWS SDK");
      rememberSecrets(plaintext);
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: "hsm::0::aws-aes", Plaintext: plaintext, EncryptionContext: context }));
      const opened = await kms.send(new DecryptCommand({ KeyId: "hsm::0::aws-aes", CiphertextBlob, EncryptionContext: context }));
      expect(Buffer.from(opened.Plaintext ?? []).equals(plaintext)).toBe(true);
      // Named by its ARN, as the AWS SDKs and the Encryption SDK name keys.
      const byArn = await kms.send(new DecryptCommand({ KeyId: described?.Arn, CiphertextBlob, EncryptionContext: context }));
      expect(Buffer.from(byArn.Plaintext ?? []).equals(plaintext)).toBe(true);
      await expect(kms.send(new DecryptCommand({ KeyId: "hsm::0::aws-aes", CiphertextBlob, EncryptionContext: { purpose: "other" } }))).rejects.toMatchObject({ name: "InvalidCiphertextException" });

      const rsaCiphertext = (await kms.send(new EncryptCommand({ KeyId: "hsm::0::aws-rsa", Plaintext: plaintext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }))).CiphertextBlob;
      const rsaOpened = await kms.send(new DecryptCommand({ KeyId: "hsm::0::aws-rsa", CiphertextBlob: rsaCiphertext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }));
      expect(Buffer.from(rsaOpened.Plaintext ?? []).equals(plaintext)).toBe(true);

      const message = Buffer.from("signed inside the HSM");
      const { Signature } = await kms.send(new SignCommand({ KeyId: "hsm::0::aws-ec", Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" }));
      expect((await kms.send(new VerifyCommand({ KeyId: "hsm::0::aws-ec", Message: message, MessageType: "RAW", Signature, SigningAlgorithm: "ECDSA_SHA_256" }))).SignatureValid).toBe(true);
      const { PublicKey, SigningAlgorithms } = await kms.send(new GetPublicKeyCommand({ KeyId: "hsm::0::aws-ec" }));
      expect(SigningAlgorithms).toEqual(["ECDSA_SHA_256"]);
      expect(nodeVerify("sha256", message, { key: createPublicKey({ key: Buffer.from(PublicKey ?? []), format: "der", type: "spki" }), dsaEncoding: "der" }, Buffer.from(Signature ?? []))).toBe(true);
    } finally {
      kms.destroy();
    }
  });

  it("keeps tenants apart inside the shared HSM", async () => {
    const api = call(stack.adminToken);
    await api("POST", "/v1/hsm-keys", { label: "private", keySpec: "AES_256" });
    const other = await ensureAdminApiKey(`${backends().stateDir}/${stack.tableName}-other`, stack.identity, randomTenantId());
    const stranger = call(other.token);
    expect(((await stranger("GET", "/v1/hsm-keys")).body.keys as unknown[]).length).toBe(0);
    expect((await stranger("POST", "/v1/hsm-keys/hsm::0::private/encrypt", { plaintext: "eA==" })).body.__type).toBe("NotFoundException");
    expect((await stranger("POST", "/v1/hsm-keys", { label: "private", keySpec: "AES_256" })).status).toBe(201);
    await stranger("DELETE", "/v1/hsm-keys/hsm::0::private");
    expect((await api("POST", "/v1/hsm-keys/hsm::0::private/encrypt", { plaintext: "eA==" })).status).toBe(200);
    await api("DELETE", "/v1/hsm-keys/hsm::0::private");
  });

  it("refuses malformed key ids and labels", async () => {
    const api = call(stack.adminToken);
    expect((await api("POST", "/v1/hsm-keys", { label: "bad label", keySpec: "AES_256" })).body.__type).toBe("ValidationException");
    expect((await api("POST", "/v1/hsm-keys/not-an-hsm-id/encrypt", { plaintext: "eA==" })).body.__type).toBe("NotFoundException");
  });

  it("a KMS key wrapped by a chosen HSM key (wrappingKeyId): usable while that key is Enabled, dead once it is destroyed", async () => {
    const api = call(stack.adminToken);
    await api("POST", "/v1/hsm-keys", { label: "kek", keySpec: "AES_256" });
    expect((await api("POST", "/v1/keys", { wrappingKeyId: "hsm::0::missing" })).body.__type).toBe("NotFoundException");
    const keyId = ((await api("POST", "/v1/keys", { wrappingKeyId: "hsm::0::kek" })).body.keyMetadata as { keyId: string }).keyId;
    const blob = (await api("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: Buffer.from("kek-wrapped").toString("base64") })).body.ciphertextBlob;
    expect(Buffer.from((await api("POST", "/v1/decrypt", { ciphertextBlob: blob })).body.plaintext as string, "base64").toString()).toBe("kek-wrapped");
    await api("POST", "/v1/keys/hsm::0::kek/disable");
    expect((await api("POST", "/v1/decrypt", { ciphertextBlob: blob })).body.__type).toBe("KMSInvalidStateException");
    await api("POST", "/v1/keys/hsm::0::kek/enable");
    expect((await api("POST", "/v1/decrypt", { ciphertextBlob: blob })).status).toBe(200);
    await api("DELETE", "/v1/hsm-keys/hsm::0::kek");
    await windowPassed("hsm::0::kek");
    expect((await api("POST", "/v1/keys/hsm::0::kek/enable")).body.__type).toBe("KMSInvalidStateException");
    expect((await api("POST", "/v1/decrypt", { ciphertextBlob: blob })).body.__type).toBe("KMSInvalidStateException");
  });
});
