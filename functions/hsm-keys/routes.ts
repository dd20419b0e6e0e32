import { Hono } from "hono";
import { toB64 } from "../../shared/protocol/codec.js";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json, query } from "../http/validate.js";
import * as z from "zod";
import { ENCRYPTION_ALGS, HSM_KEY_SPECS } from "../../shared/hsm/port.js";
import { Base64, KeyUsage, SigningAlgorithm } from "../contract/fields.js";
import { described } from "../http/openapi.js";
import { KeyState } from "../keys/model.js";
import { keyMetadata, KeyMetadataAnswer } from "../keys/operations.js";
import { CreateHsmKeyBody, DeleteHsmKeyQuery, HsmDecryptBody, HsmEncryptBody, ListHsmKeysQuery, HsmSignBody, HsmVerifyBody } from "./schemas.js";
import type { HsmKeyService } from "./service.js";

const HsmKeyId = z.string().meta({ examples: ["hsm::0::payments-signer"] });
const HsmKeyView = z.object({
  keyId: HsmKeyId,
  slot: z.string().meta({ examples: ["0"] }),
  label: z.string().meta({ examples: ["payments-signer"] }),
  keySpec: z.enum(HSM_KEY_SPECS),
  keyUsage: KeyUsage,
  sensitive: z.boolean(),
  keyState: KeyState,
});

/** HSM-resident keys: /v1/hsm-keys and /v1/hsm-keys/hsm::<slot>::<label>/… */
export const hsmKeyRoutes = (svc: HsmKeyService) =>
  new Hono<AppEnv>()
    .post("/v1/hsm-keys", json(CreateHsmKeyBody), described({ operationId: "CreateHsmKey", summary: "Create a key inside the HSM", description: "A key that lives only in the HSM (hsm::<slot>::<label>): AES-256, RSA or EC, sensitive (never exportable) by default. It is also a KMS key of origin HSM, governed by its key policy and grants, usable through every door.", response: z.object({ key: HsmKeyView }), errors: ["AlreadyExistsException", "MalformedPolicyDocumentException", "HsmUnavailableException"], status: 201 }), async (c) => {
      await note(c, { action: "kms:CreateKey" });
      const key = await svc.create(principalOf(c), c.req.valid("json"), c.var.call);
      await note(c, { action: "kms:CreateKey", keyId: key.keyId });
      return c.json({ key }, 201);
    })
    .get("/v1/hsm-keys", query(ListHsmKeysQuery), described({ operationId: "ListHsmKeys", summary: "List keys inside the HSM", description: "The tenant's HSM-resident keys of a slot that the caller may describe (a page may come back short; follow nextCursor).", response: z.object({ keys: z.array(HsmKeyView), nextCursor: z.string().optional() }), errors: [] }), async (c) => {
      await note(c, { action: "kms:ListKeys" });
      const { slot, limit, cursor } = c.req.valid("query");
      const page = await svc.list(principalOf(c), slot, limit, cursor);
      return c.json({ keys: page.keys, ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .delete("/v1/hsm-keys/:keyId", query(DeleteHsmKeyQuery), described({ operationId: "ScheduleHsmKeyDeletion", summary: "Schedule an HSM key's destruction", description: "After 7\u201330 days the key is destroyed inside the HSM; cancel with cancel-deletion like any key.", response: KeyMetadataAnswer, errors: ["NotFoundException", "KMSInvalidStateException"] }), async (c) => {
      await note(c, { action: "kms:ScheduleKeyDeletion", keyId: c.req.param("keyId") });
      const key = await svc.scheduleDeletion(principalOf(c), c.req.param("keyId"), c.req.valid("query").pendingWindowInDays);
      return c.json({ keyMetadata: keyMetadata(key) });
    })
    .get("/v1/hsm-keys/:keyId/public-key", described({ operationId: "GetHsmPublicKey", summary: "Get an HSM key's public key", description: "The public half of an RSA or EC key inside the HSM (SubjectPublicKeyInfo, DER).", response: z.object({ keyId: HsmKeyId, publicKey: Base64 }), errors: ["NotFoundException", "DisabledException", "KMSInvalidStateException", "UnsupportedOperationException", "HsmUnavailableException"] }), async (c) => {
      await note(c, { action: "kms:GetPublicKey", keyId: c.req.param("keyId") });
      return c.json({ keyId: c.req.param("keyId"), publicKey: toB64(await svc.publicKey(principalOf(c), c.req.param("keyId"), c.var.call)) });
    })
    .post("/v1/hsm-keys/:keyId/encrypt", json(HsmEncryptBody), described({ operationId: "HsmEncrypt", summary: "Encrypt inside the HSM", description: "AES-GCM or RSA (OAEP SHA-256, PKCS#1 v1.5) by the HSM itself, up to 64 KiB.", response: z.object({ keyId: HsmKeyId, ciphertextBlob: Base64, algorithm: z.enum(ENCRYPTION_ALGS) }), errors: ["NotFoundException", "DisabledException", "KMSInvalidStateException", "InvalidKeyUsageException", "HsmUnavailableException"] }), async (c) => {
      await note(c, { action: "kms:Encrypt", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const ct = await svc.encrypt(principalOf(c), c.req.param("keyId"), b.algorithm, b.plaintext, b.encryptionContext, c.var.call);
      return c.json({ keyId: c.req.param("keyId"), ciphertextBlob: toB64(ct), algorithm: b.algorithm });
    })
    .post("/v1/hsm-keys/:keyId/decrypt", json(HsmDecryptBody), described({ operationId: "HsmDecrypt", summary: "Decrypt inside the HSM", description: "The HSM decrypts with the key; any failure a caller could cause is InvalidCiphertextException.", response: z.object({ keyId: HsmKeyId, plaintext: Base64 }), errors: ["NotFoundException", "DisabledException", "KMSInvalidStateException", "InvalidKeyUsageException", "InvalidCiphertextException", "HsmUnavailableException"] }), async (c) => {
      await note(c, { action: "kms:Decrypt", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const pt = await svc.decrypt(principalOf(c), c.req.param("keyId"), b.algorithm, b.ciphertextBlob, b.encryptionContext, c.var.call);
      return c.json({ keyId: c.req.param("keyId"), plaintext: toB64(pt) });
    })
    .post("/v1/hsm-keys/:keyId/sign", json(HsmSignBody), described({ operationId: "HsmSign", summary: "Sign inside the HSM", description: "A signature by an RSA or EC key inside the HSM.", response: z.object({ keyId: HsmKeyId, signature: Base64, signingAlgorithm: SigningAlgorithm }), errors: ["NotFoundException", "DisabledException", "KMSInvalidStateException", "InvalidKeyUsageException", "HsmUnavailableException"] }), async (c) => {
      await note(c, { action: "kms:Sign", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const sig = await svc.sign(principalOf(c), c.req.param("keyId"), b.signingAlgorithm, b.message, b.messageType, c.var.call);
      return c.json({ keyId: c.req.param("keyId"), signature: toB64(sig), signingAlgorithm: b.signingAlgorithm });
    })
    .post("/v1/hsm-keys/:keyId/verify", json(HsmVerifyBody), described({ operationId: "HsmVerify", summary: "Verify inside the HSM", description: "Whether the HSM finds the signature valid.", response: z.object({ keyId: HsmKeyId, signatureValid: z.boolean(), signingAlgorithm: SigningAlgorithm }), errors: ["NotFoundException", "DisabledException", "KMSInvalidStateException", "InvalidKeyUsageException", "HsmUnavailableException"] }), async (c) => {
      await note(c, { action: "kms:Verify", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const valid = await svc.verify(principalOf(c), c.req.param("keyId"), b.signingAlgorithm, b.message, b.messageType, b.signature, c.var.call);
      return c.json({ keyId: c.req.param("keyId"), signatureValid: valid, signingAlgorithm: b.signingAlgorithm });
    });
