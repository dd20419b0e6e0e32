import { randomBytes } from "node:crypto";
import { buildClient, CommitmentPolicy, getClient, KmsKeyringNode } from "@aws-crypto/client-node";
import { CreateKeyCommand, KMS, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rememberSecrets } from "../support/leak-ledger.js";
import { accessKeyFor, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

/** The AWS Encryption SDK for JavaScript, its KMS keyring's client pointed at Tether. */
describe("AWS Encryption SDK (@aws-crypto/client-node) with a KMS keyring on Tether", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  let credentials: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    stack = await startFunctions();
    connector = await startConnector(stack, "esdk");
    await waitForHealth(stack, (h) => h.status === "ok");
    credentials = await accessKeyFor(stack);
  });
  afterAll(async () => {
    await stack?.close();
    await connector?.stop();
  });

  it("encrypts and decrypts a 4 MiB payload with an encryption context; a keyring of another key cannot decrypt it", async () => {
    const kms = new KMSClient({ endpoint: stack.url, region: "us-east-1", credentials });
    const arn = (await kms.send(new CreateKeyCommand({ Description: "esdk" }))).KeyMetadata?.Arn as string;
    kms.destroy();
    const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const clientProvider = getClient(KMS, { endpoint: stack.url, credentials });
    const keyring = new KmsKeyringNode({ clientProvider, generatorKeyId: arn });
    const payload = randomBytes(4 * 1024 * 1024);
    rememberSecrets(payload.subarray(0, 64));
    const context = { purpose: "tether-test", tenant: stack.tenant };

    const { result } = await encrypt(keyring, payload, { encryptionContext: context });
    expect(result.length).toBeGreaterThan(payload.length);
    expect(result.includes(payload.subarray(0, 64))).toBe(false);
    const { plaintext, messageHeader } = await decrypt(keyring, result);
    expect(Buffer.compare(plaintext, payload)).toBe(0);
    expect(messageHeader.encryptionContext).toMatchObject(context);
    expect(messageHeader.encryptedDataKeys.map((k) => k.providerInfo)).toEqual([arn]);

    const otherArn = await (async () => {
      const c = new KMSClient({ endpoint: stack.url, region: "us-east-1", credentials });
      try {
        return (await c.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
      } finally {
        c.destroy();
      }
    })();
    await expect(decrypt(new KmsKeyringNode({ clientProvider, keyIds: [otherArn] }), result)).rejects.toThrow();
  }, 120_000);
});
