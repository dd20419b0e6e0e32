import { Hono, type Context } from "hono";
import type { z } from "zod";
import type { KmsError } from "../../shared/errors.js";
import { toB64 } from "../../shared/protocol/codec.js";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json } from "../http/validate.js";
import { BatchDecryptBody, BatchEncryptBody, DataKeyBody, DataKeyPairBody, DecryptBody, EncryptBody, GenerateMacBody, GenerateRandomBody, ReEncryptBody, SignBody, VerifyBody, VerifyMacBody } from "./schemas.js";
import type { CryptoService } from "./service.js";

export const cryptoRoutes = (svc: CryptoService) => {
  const dataKeyPair = async (c: Context<AppEnv, string, { out: { json: z.output<typeof DataKeyPairBody> } }>, withPlaintext: boolean) => {
    const b = c.req.valid("json");
    await note(c, { action: withPlaintext ? "kms:GenerateDataKeyPair" : "kms:GenerateDataKeyPairWithoutPlaintext", keyId: c.req.param("keyId"), encryptionContext: b.encryptionContext });
    const out = await svc.generateDataKeyPair(principalOf(c), c.req.param("keyId") ?? "", b.keyPairSpec, b.encryptionContext, withPlaintext, c.var.call);
    return c.json({
      keyId: out.keyId,
      keyPairSpec: b.keyPairSpec,
      publicKey: toB64(out.publicKey),
      privateKeyCiphertextBlob: toB64(out.privateKeyCiphertext),
      ...(out.privateKeyPlaintext ? { privateKeyPlaintext: toB64(out.privateKeyPlaintext) } : {}),
    });
  };
  return new Hono<AppEnv>()
    .post("/v1/random", json(GenerateRandomBody), async (c) => {
      await note(c, { action: "kms:GenerateRandom" });
      const bytes = await svc.generateRandom(principalOf(c), c.req.valid("json").numberOfBytes, c.var.call);
      return c.json({ plaintext: toB64(bytes) });
    })
    .post("/v1/keys/:keyId/encrypt", json(EncryptBody), async (c) => {
      const body = c.req.valid("json");
      await note(c, { action: "kms:Encrypt", keyId: c.req.param("keyId"), encryptionContext: body.encryptionContext });
      const out = await svc.encrypt(principalOf(c), c.req.param("keyId"), body.plaintext, body.encryptionContext, c.var.call, body.encryptionAlgorithm, body.derivationContext);
      return c.json({ keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext), encryptionAlgorithm: body.encryptionAlgorithm });
    })
    .post("/v1/decrypt", json(DecryptBody), async (c) => {
      const body = c.req.valid("json");
      await note(c, { action: "kms:Decrypt", encryptionContext: body.encryptionContext });
      const out = await svc.decrypt(principalOf(c), body.ciphertextBlob, body.encryptionContext, body.keyId, c.var.call, body.encryptionAlgorithm, body.derivationContext);
      await note(c, { action: "kms:Decrypt", keyId: out.keyId, encryptionContext: body.encryptionContext });
      return c.json({ keyId: out.keyId, plaintext: toB64(out.plaintext) });
    })
    .post("/v1/keys/:keyId/generate-data-key", json(DataKeyBody), async (c) => {
      const body = c.req.valid("json");
      await note(c, { action: "kms:GenerateDataKey", keyId: c.req.param("keyId"), encryptionContext: body.encryptionContext });
      const out = await svc.generateDataKey(principalOf(c), c.req.param("keyId"), body, body.encryptionContext, true, c.var.call);
      return c.json({ keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext), plaintext: toB64(out.plaintext as Uint8Array) });
    })
    .post("/v1/keys/:keyId/generate-data-key-without-plaintext", json(DataKeyBody), async (c) => {
      const body = c.req.valid("json");
      await note(c, { action: "kms:GenerateDataKeyWithoutPlaintext", keyId: c.req.param("keyId"), encryptionContext: body.encryptionContext });
      const out = await svc.generateDataKey(principalOf(c), c.req.param("keyId"), body, body.encryptionContext, false, c.var.call);
      return c.json({ keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext) });
    })
    .post("/v1/keys/:keyId/generate-data-key-pair", json(DataKeyPairBody), async (c) => dataKeyPair(c, true))
    .post("/v1/keys/:keyId/generate-data-key-pair-without-plaintext", json(DataKeyPairBody), async (c) => dataKeyPair(c, false))
    .post("/v1/re-encrypt", json(ReEncryptBody), async (c) => {
      await note(c, { action: "kms:ReEncrypt", keyId: c.req.valid("json").destinationKeyId, encryptionContext: c.req.valid("json").destinationEncryptionContext });
      const b = c.req.valid("json");
      const out = await svc.reEncrypt(
        principalOf(c),
        { ciphertext: b.ciphertextBlob, sourceContext: b.sourceEncryptionContext, sourceKeyId: b.sourceKeyId, destinationKeyId: b.destinationKeyId, destinationContext: b.destinationEncryptionContext },
        c.var.call,
      );
      return c.json({ sourceKeyId: out.sourceKeyId, keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext) });
    })
    .post("/v1/keys/:keyId/sign", json(SignBody), async (c) => {
      await note(c, { action: "kms:Sign", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const out = await svc.sign(principalOf(c), c.req.param("keyId"), b.signingAlgorithm, b.message, b.messageType, c.var.call);
      return c.json({ keyId: out.keyId, signature: toB64(out.signature), signingAlgorithm: b.signingAlgorithm });
    })
    .post("/v1/keys/:keyId/verify", json(VerifyBody), async (c) => {
      await note(c, { action: "kms:Verify", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const out = await svc.verify(principalOf(c), c.req.param("keyId"), b.signingAlgorithm, b.message, b.messageType, b.signature, c.var.call);
      return c.json({ keyId: out.keyId, signatureValid: out.valid, signingAlgorithm: b.signingAlgorithm });
    })
    .get("/v1/keys/:keyId/public-key", async (c) => {
      await note(c, { action: "kms:GetPublicKey", keyId: c.req.param("keyId") });
      const out = await svc.getPublicKey(principalOf(c), c.req.param("keyId"), c.var.call);
      return c.json({ keyId: out.key.arn, publicKey: toB64(out.publicKey), keySpec: out.key.spec, keyUsage: out.key.usage, signingAlgorithms: out.signingAlgorithms });
    })
    .post("/v1/keys/:keyId/generate-mac", json(GenerateMacBody), async (c) => {
      await note(c, { action: "kms:GenerateMac", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const out = await svc.generateMac(principalOf(c), c.req.param("keyId"), b.macAlgorithm, b.message, c.var.call);
      return c.json({ keyId: out.keyId, mac: toB64(out.mac), macAlgorithm: b.macAlgorithm });
    })
    .post("/v1/keys/:keyId/verify-mac", json(VerifyMacBody), async (c) => {
      await note(c, { action: "kms:VerifyMac", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const out = await svc.verifyMac(principalOf(c), c.req.param("keyId"), b.macAlgorithm, b.message, b.mac, c.var.call);
      return c.json({ keyId: out.keyId, macValid: out.valid, macAlgorithm: b.macAlgorithm });
    })
    .get("/v1/keys/:keyId/export", async (c) => {
      await note(c, { action: "kms:ExportKey", keyId: c.req.param("keyId") });
      const out = await svc.exportKey(principalOf(c), c.req.param("keyId"), c.var.call);
      return c.json({ keyId: out.key.arn, keySpec: out.key.spec, versions: out.versions.map((v) => ({ version: v.version, material: toB64(v.material) })) });
    })
    .post("/v1/batch/encrypt", json(BatchEncryptBody), async (c) => {
      await note(c, { action: "kms:Encrypt" });
      const results = await svc.batchEncrypt(principalOf(c), c.req.valid("json").items, c.var.call);
      return c.json({ results: results.map((r) => (r.ok ? { keyId: r.value.keyId, ciphertextBlob: toB64(r.value.ciphertext) } : failure(r.error))) });
    })
    .post("/v1/batch/decrypt", json(BatchDecryptBody), async (c) => {
      await note(c, { action: "kms:Decrypt" });
      const results = await svc.batchDecrypt(principalOf(c), c.req.valid("json").items, c.var.call);
      return c.json({ results: results.map((r) => (r.ok ? { keyId: r.value.keyId, plaintext: toB64(r.value.plaintext) } : failure(r.error))) });
    });

};

const failure = (e: KmsError) => ({ error: { __type: e.code, message: e.message } });
