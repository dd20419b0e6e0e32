import { Hono } from "hono";
import * as z from "zod";
import type { KmsError, KmsErrorCode } from "../../shared/errors.js";
import { toB64 } from "../../shared/protocol/codec.js";
import { Base64, KeyArn, KeySpec } from "../contract/fields.js";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { serveOperation } from "../http/native.js";
import { described } from "../http/openapi.js";
import { json } from "../http/validate.js";
import { CRYPTO_OPERATIONS as OPS } from "./operations.js";
import { BatchDecryptBody, BatchEncryptBody } from "./schemas.js";
import type { CryptoService } from "./service.js";

const KEY_USE: readonly KmsErrorCode[] = ["NotFoundException", "DisabledException", "KMSInvalidStateException", "InvalidKeyUsageException", "HsmUnavailableException"];
const ItemError = z.object({ error: z.object({ __type: z.string().meta({ examples: ["InvalidCiphertextException"] }), message: z.string().meta({ examples: ["the ciphertext is invalid"] }) }) });

/** The cryptographic operations of the contract under /v1, and the native API's own: key export and batches. */
export const cryptoRoutes = (svc: CryptoService) => {
  const app = new Hono<AppEnv>();
  serveOperation(app, svc, OPS.GenerateRandom, { method: "POST", path: "/v1/random" });
  serveOperation(app, svc, OPS.Encrypt, { method: "POST", path: "/v1/keys/:keyId/encrypt" });
  serveOperation(app, svc, OPS.Decrypt, { method: "POST", path: "/v1/decrypt" });
  serveOperation(app, svc, OPS.ReEncrypt, { method: "POST", path: "/v1/re-encrypt" });
  serveOperation(app, svc, OPS.GenerateDataKey, { method: "POST", path: "/v1/keys/:keyId/generate-data-key" });
  serveOperation(app, svc, OPS.GenerateDataKeyWithoutPlaintext, { method: "POST", path: "/v1/keys/:keyId/generate-data-key-without-plaintext" });
  serveOperation(app, svc, OPS.GenerateDataKeyPair, { method: "POST", path: "/v1/keys/:keyId/generate-data-key-pair" });
  serveOperation(app, svc, OPS.GenerateDataKeyPairWithoutPlaintext, { method: "POST", path: "/v1/keys/:keyId/generate-data-key-pair-without-plaintext" });
  serveOperation(app, svc, OPS.Sign, { method: "POST", path: "/v1/keys/:keyId/sign" });
  serveOperation(app, svc, OPS.Verify, { method: "POST", path: "/v1/keys/:keyId/verify" });
  serveOperation(app, svc, OPS.GetPublicKey, { method: "GET", path: "/v1/keys/:keyId/public-key" });
  serveOperation(app, svc, OPS.GenerateMac, { method: "POST", path: "/v1/keys/:keyId/generate-mac" });
  serveOperation(app, svc, OPS.VerifyMac, { method: "POST", path: "/v1/keys/:keyId/verify-mac" });
  return app
    .get(
      "/v1/keys/:keyId/export",
      described({
        operationId: "ExportKey",
        summary: "Export a key's material",
        description: "The material of every version that still has it, for keys created exportable (key admins only). Tether's own operation; AWS KMS has none.",
        response: z.object({ keyId: KeyArn, keySpec: KeySpec, versions: z.array(z.object({ version: z.number().int().min(1), material: Base64 })) }),
        errors: [...KEY_USE, "KMSInvalidStateException"],
      }),
      async (c) => {
      await note(c, { action: "kms:ExportKey", keyId: c.req.param("keyId") });
      const out = await svc.exportKey(principalOf(c), c.req.param("keyId"), c.var.call);
      return c.json({ keyId: out.key.arn, keySpec: out.key.spec, versions: out.versions.map((v) => ({ version: v.version, material: toB64(v.material) })) });
      },
    )
    .post(
      "/v1/batch/encrypt",
      json(BatchEncryptBody),
      described({
        operationId: "BatchEncrypt",
        summary: "Encrypt up to 100 items",
        description: "Encrypt for each item, in one request; each item succeeds or fails on its own (its error in place of its result).",
        response: z.object({ results: z.array(z.union([z.object({ keyId: KeyArn, ciphertextBlob: Base64 }), ItemError])) }),
        errors: [],
      }),
      async (c) => {
      await note(c, { action: "kms:Encrypt" });
      const results = await svc.batchEncrypt(principalOf(c), c.req.valid("json").items, c.var.call);
      return c.json({ results: results.map((r) => (r.ok ? { keyId: r.value.keyId, ciphertextBlob: toB64(r.value.ciphertext) } : failure(r.error))) });
      },
    )
    .post(
      "/v1/batch/decrypt",
      json(BatchDecryptBody),
      described({
        operationId: "BatchDecrypt",
        summary: "Decrypt up to 100 items",
        description: "Decrypt for each item, in one request; each item succeeds or fails on its own (its error in place of its result).",
        response: z.object({ results: z.array(z.union([z.object({ keyId: KeyArn, plaintext: Base64 }), ItemError])) }),
        errors: [],
      }),
      async (c) => {
      await note(c, { action: "kms:Decrypt" });
      const results = await svc.batchDecrypt(principalOf(c), c.req.valid("json").items, c.var.call);
      return c.json({ results: results.map((r) => (r.ok ? { keyId: r.value.keyId, plaintext: toB64(r.value.plaintext) } : failure(r.error))) });
      },
    );

};

const failure = (e: KmsError) => ({ error: { __type: e.code, message: e.message } });
