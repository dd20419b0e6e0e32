import { Hono } from "hono";
import { toB64 } from "../../shared/protocol/codec.js";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { json } from "../http/validate.js";
import { DataKeyBody, DecryptBody, EncryptBody, GenerateRandomBody, ReEncryptBody } from "./schemas.js";
import type { CryptoService } from "./service.js";

export const cryptoRoutes = (svc: CryptoService) =>
  new Hono<AppEnv>()
    .post("/v1/random", json(GenerateRandomBody), async (c) => {
      c.set("audit", { action: "kms:GenerateRandom" });
      const bytes = await svc.generateRandom(principalOf(c), c.req.valid("json").numberOfBytes, c.var.call);
      return c.json({ plaintext: toB64(bytes) });
    })
    .post("/v1/keys/:keyId/encrypt", json(EncryptBody), async (c) => {
      c.set("audit", { action: "kms:Encrypt", keyId: c.req.param("keyId") });
      const body = c.req.valid("json");
      const out = await svc.encrypt(principalOf(c), c.req.param("keyId"), body.plaintext, body.encryptionContext, c.var.call);
      return c.json({ keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext) });
    })
    .post("/v1/decrypt", json(DecryptBody), async (c) => {
      c.set("audit", { action: "kms:Decrypt" });
      const body = c.req.valid("json");
      const out = await svc.decrypt(principalOf(c), body.ciphertextBlob, body.encryptionContext, body.keyId, c.var.call);
      c.set("audit", { action: "kms:Decrypt", keyId: out.keyId });
      return c.json({ keyId: out.keyId, plaintext: toB64(out.plaintext) });
    })
    .post("/v1/keys/:keyId/generate-data-key", json(DataKeyBody), async (c) => {
      c.set("audit", { action: "kms:GenerateDataKey", keyId: c.req.param("keyId") });
      const body = c.req.valid("json");
      const out = await svc.generateDataKey(principalOf(c), c.req.param("keyId"), body, body.encryptionContext, true, c.var.call);
      return c.json({ keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext), plaintext: toB64(out.plaintext as Uint8Array) });
    })
    .post("/v1/keys/:keyId/generate-data-key-without-plaintext", json(DataKeyBody), async (c) => {
      c.set("audit", { action: "kms:GenerateDataKeyWithoutPlaintext", keyId: c.req.param("keyId") });
      const body = c.req.valid("json");
      const out = await svc.generateDataKey(principalOf(c), c.req.param("keyId"), body, body.encryptionContext, false, c.var.call);
      return c.json({ keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext) });
    })
    .post("/v1/re-encrypt", json(ReEncryptBody), async (c) => {
      c.set("audit", { action: "kms:ReEncrypt", keyId: c.req.valid("json").destinationKeyId });
      const b = c.req.valid("json");
      const out = await svc.reEncrypt(
        principalOf(c),
        { ciphertext: b.ciphertextBlob, sourceContext: b.sourceEncryptionContext, sourceKeyId: b.sourceKeyId, destinationKeyId: b.destinationKeyId, destinationContext: b.destinationEncryptionContext },
        c.var.call,
      );
      return c.json({ sourceKeyId: out.sourceKeyId, keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext) });
    });
