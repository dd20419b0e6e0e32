import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateMacCommand,
  GenerateRandomCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RevokeGrantCommand,
  RotateKeyOnDemandCommand,
  ListKeyRotationsCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  VerifyCommand,
  VerifyMacCommand,
  UpdateKeyDescriptionCommand,
  UpdateAliasCommand,
  DeleteAliasCommand,
  UntagResourceCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  ListKeyPoliciesCommand,
  ListRetirableGrantsCommand,
  RetireGrantCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  DeleteImportedKeyMaterialCommand,
} from "@aws-sdk/client-kms";
import { constants, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rememberSecrets } from "../support/leak-ledger.js";
import { accessKeyFor, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

/** The real AWS SDK for JavaScript (v3), pointed at Tether with a Tether-issued access key. */
describe("@aws-sdk/client-kms against Tether (SigV4, the AWS JSON protocol)", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  let kms: KMSClient;
  let credentials: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    stack = await startFunctions();
    connector = await startConnector(stack, "aws-sdk");
    await waitForHealth(stack, (h) => h.status === "ok");
    credentials = await accessKeyFor(stack);
    kms = new KMSClient({ endpoint: stack.url, region: "us-east-1", credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    kms?.destroy();
    await stack?.close();
    await connector?.stop();
  });

  const errorName = (p: Promise<unknown>) => p.then(() => "no error", (e: Error) => e.name);

  it("key lifecycle, aliases, tags, rotation, policy, grants", async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: "sdk", Tags: [{ TagKey: "env", TagValue: "test" }] }));
    const keyId = KeyMetadata?.KeyId as string;
    expect(KeyMetadata).toMatchObject({ AWSAccountId: stack.tenant, KeyState: "Enabled", KeySpec: "SYMMETRIC_DEFAULT", Enabled: true, Origin: "AWS_KMS" });
    expect(KeyMetadata?.Arn).toBe(`arn:aws:kms:us-east-1:${stack.tenant}:key/${keyId}`);
    expect(KeyMetadata?.CreationDate).toBeInstanceOf(Date);
    expect((await kms.send(new ListKeysCommand({}))).Keys?.map((k) => k.KeyId)).toContain(keyId);
    await kms.send(new CreateAliasCommand({ AliasName: "alias/sdk-test", TargetKeyId: keyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: "alias/sdk-test" }))).KeyMetadata?.KeyId).toBe(keyId);
    expect((await kms.send(new ListAliasesCommand({ KeyId: keyId }))).Aliases?.map((a) => a.AliasName)).toEqual(["alias/sdk-test"]);
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "team", TagValue: "kms" }] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual(expect.arrayContaining([{ TagKey: "env", TagValue: "test" }, { TagKey: "team", TagValue: "kms" }]));
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(false);
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 180 }));
    expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 180 });
    await kms.send(new DisableKeyRotationCommand({ KeyId: keyId }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(false);
    expect((await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations).toEqual([{ KeyId: keyId, RotationDate: expect.any(Date), RotationType: "ON_DEMAND" }]);
    const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))).Policy ?? "{}") as { Statement: unknown[] };
    expect(policy.Statement.length).toBeGreaterThan(1);
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${stack.tenant}:root` }, Action: "kms:*", Resource: "*" }] }) }));
    const grant = await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: `arn:aws:iam::${stack.tenant}:role/worker`, Operations: ["Encrypt", "Decrypt"] }));
    expect((await kms.send(new ListGrantsCommand({ KeyId: keyId }))).Grants?.map((g) => g.GrantId)).toEqual([grant.GrantId]);
    await kms.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: grant.GrantId }));
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    expect(await errorName(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })))).toBe("DisabledException");
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(scheduled.KeyState).toBe("PendingDeletion");
    expect(await errorName(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })))).toBe("KMSInvalidStateException");
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe("Disabled");
    expect(await errorName(kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 3 })))).toBe("ValidationException");
  });

  it("encrypt, decrypt, re-encrypt, data keys, random; and the error paths", async () => {
    const a = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
    const b = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
    const context = { order: "42" };
    const secret = Buffer.from("sdk plaintext, not to be seen");
    rememberSecrets(secret);
    const enc = await kms.send(new EncryptCommand({ KeyId: a, Plaintext: secret, EncryptionContext: context }));
    expect(enc.KeyId).toContain(a);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }));
    expect(Buffer.from(dec.Plaintext ?? []).toString()).toBe(secret.toString());
    expect(await errorName(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { order: "43" } })))).toBe("InvalidCiphertextException");
    const tampered = Buffer.from(enc.CiphertextBlob ?? []);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
    expect(await errorName(kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })))).toBe("InvalidCiphertextException");
    expect(await errorName(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context, KeyId: b })))).toBe("IncorrectKeyException");
    expect(await errorName(kms.send(new EncryptCommand({ KeyId: "alias/nope", Plaintext: secret })))).toBe("NotFoundException");
    expect(await errorName(kms.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.alloc(4097) })))).toBe("ValidationException");
    const re = await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: context, DestinationKeyId: b }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob }))).Plaintext ?? []).toString()).toBe(secret.toString());
    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: a, KeySpec: "AES_256" }));
    rememberSecrets(dk.Plaintext ?? new Uint8Array());
    expect(dk.Plaintext).toHaveLength(32);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }))).Plaintext ?? []).equals(Buffer.from(dk.Plaintext ?? []))).toBe(true);
    const pair = await kms.send(new GenerateDataKeyPairCommand({ KeyId: a, KeyPairSpec: "ECC_NIST_P256" }));
    rememberSecrets(pair.PrivateKeyPlaintext ?? new Uint8Array());
    expect(pair.PublicKey?.length).toBeGreaterThan(60);
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 24 }))).Plaintext).toHaveLength(24);
  });

  it("sign/verify, MACs, public keys; invalid ones get AWS's error names", async () => {
    const signer = (await kms.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata?.KeyId as string;
    const message = Buffer.from("release 1.0");
    const { Signature } = await kms.send(new SignCommand({ KeyId: signer, Message: message, SigningAlgorithm: "ECDSA_SHA_256" }));
    expect((await kms.send(new VerifyCommand({ KeyId: signer, Message: message, Signature, SigningAlgorithm: "ECDSA_SHA_256" }))).SignatureValid).toBe(true);
    expect(await errorName(kms.send(new VerifyCommand({ KeyId: signer, Message: Buffer.from("other"), Signature, SigningAlgorithm: "ECDSA_SHA_256" })))).toBe("KMSInvalidSignatureException");
    expect((await kms.send(new GetPublicKeyCommand({ KeyId: signer }))).SigningAlgorithms).toEqual(["ECDSA_SHA_256"]);
    const mac = (await kms.send(new CreateKeyCommand({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }))).KeyMetadata?.KeyId as string;
    const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: mac, Message: message, MacAlgorithm: "HMAC_SHA_256" }));
    expect((await kms.send(new VerifyMacCommand({ KeyId: mac, Message: message, Mac, MacAlgorithm: "HMAC_SHA_256" }))).MacValid).toBe(true);
    expect(await errorName(kms.send(new VerifyMacCommand({ KeyId: mac, Message: Buffer.from("x"), Mac, MacAlgorithm: "HMAC_SHA_256" })))).toBe("KMSInvalidMacException");
  });

  it("the rest: descriptions, aliases re-pointed and deleted, untagging, data keys without plaintext, policies listed, grants retired, BYOK import", async () => {
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
    const other = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: "renamed" }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Description).toBe("renamed");
    await kms.send(new CreateAliasCommand({ AliasName: "alias/moving", TargetKeyId: keyId }));
    await kms.send(new UpdateAliasCommand({ AliasName: "alias/moving", TargetKeyId: other }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: "alias/moving" }))).KeyMetadata?.KeyId).toBe(other);
    await kms.send(new DeleteAliasCommand({ AliasName: "alias/moving" }));
    expect(await errorName(kms.send(new DescribeKeyCommand({ KeyId: "alias/moving" })))).toBe("NotFoundException");
    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "a", TagValue: "1" }, { TagKey: "b", TagValue: "2" }] }));
    await kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: ["a"] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([{ TagKey: "b", TagValue: "2" }]);
    const dk = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, NumberOfBytes: 16 }));
    expect(Object.keys(dk)).not.toContain("Plaintext");
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }))).Plaintext).toHaveLength(16);
    const pair = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keyId, KeyPairSpec: "RSA_2048" }));
    expect(Object.keys(pair)).not.toContain("PrivateKeyPlaintext");
    expect(pair.PrivateKeyCiphertextBlob?.length).toBeGreaterThan(1000);
    expect((await kms.send(new ListKeyPoliciesCommand({ KeyId: keyId }))).PolicyNames).toEqual(["default"]);
    const grant = await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: "worker", RetiringPrincipal: "admin", Operations: ["Encrypt"] }));
    expect((await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: "admin" }))).Grants?.map((g) => g.GrantId)).toContain(grant.GrantId);
    await kms.send(new RetireGrantCommand({ GrantToken: grant.GrantToken }));
    expect((await kms.send(new ListGrantsCommand({ KeyId: keyId }))).Grants).toEqual([]);

    const external = (await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata;
    expect(external).toMatchObject({ Origin: "EXTERNAL", KeyState: "PendingImport" });
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: external?.KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" }));
    const material = randomBytes(32);
    rememberSecrets(material);
    const importing = async (bytes: Buffer) => {
      const p = await kms.send(new GetParametersForImportCommand({ KeyId: external?.KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" }));
      const wrappingKey = createPublicKey({ key: Buffer.from(p.PublicKey ?? []), format: "der", type: "spki" });
      const wrapped = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, bytes);
      return kms.send(new ImportKeyMaterialCommand({ KeyId: external?.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE" }));
    };
    expect(params.ParametersValidTo).toBeInstanceOf(Date);
    await importing(material);
    const sealed = await kms.send(new EncryptCommand({ KeyId: external?.KeyId, Plaintext: Buffer.from("byok") }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }))).Plaintext ?? []).toString()).toBe("byok");
    // Deleting the material stops the key at once; only the same material brings it back.
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: external?.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: external?.KeyId }))).KeyMetadata?.KeyState).toBe("PendingImport");
    expect(await errorName(kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob })))).toBe("KMSInvalidStateException");
    const otherMaterial = randomBytes(32);
    rememberSecrets(otherMaterial);
    expect(await errorName(importing(otherMaterial))).toBe("IncorrectKeyMaterialException");
    await importing(material);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }))).Plaintext ?? []).toString()).toBe("byok");
    expect(await errorName(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId })))).toBe("UnsupportedOperationException");
  });

  it("unsigned, wrongly signed or foreign requests are refused with AWS's error names", async () => {
    const wrong = new KMSClient({ endpoint: stack.url, region: "us-east-1", credentials: { ...credentials, secretAccessKey: `${credentials.secretAccessKey.slice(0, -1)}x` }, maxAttempts: 1 });
    const unknown = new KMSClient({ endpoint: stack.url, region: "us-east-1", credentials: { accessKeyId: "TTHAAAAAAAAAAAAAAAAA", secretAccessKey: "x".repeat(40) }, maxAttempts: 1 });
    const region = new KMSClient({ endpoint: stack.url, region: "eu-west-1", credentials, maxAttempts: 1 });
    try {
      expect(await errorName(wrong.send(new ListKeysCommand({})))).toBe("InvalidSignatureException");
      expect(await errorName(unknown.send(new ListKeysCommand({})))).toBe("UnrecognizedClientException");
      expect(await errorName(region.send(new ListKeysCommand({})))).toBe("InvalidSignatureException");
    } finally {
      for (const c of [wrong, unknown, region]) c.destroy();
    }
    const unsigned = await fetch(stack.url, { method: "POST", headers: { "x-amz-target": "TrentService.ListKeys", "content-type": "application/x-amz-json-1.1" }, body: "{}" });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ __type: "MissingAuthenticationTokenException" });
    const unknownOp = await fetch(stack.url, { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}`, "x-amz-target": "TrentService.MakeCoffee", "content-type": "application/x-amz-json-1.1" }, body: "{}" });
    expect(await unknownOp.json()).toMatchObject({ __type: "UnknownOperationException" });
  });
});
