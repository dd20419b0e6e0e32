import { Hono } from "hono";
import { toB64 } from "../../shared/protocol/codec.js";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json, query } from "../http/validate.js";
import { keyMetadata } from "../keys/schemas.js";
import { CreateHsmKeyBody, DeleteHsmKeyQuery, HsmDecryptBody, HsmEncryptBody, ListHsmKeysQuery, SignBody, VerifyBody } from "./schemas.js";
import type { HsmKeyService } from "./service.js";

/** HSM-resident keys: /v1/hsm-keys and /v1/hsm-keys/hsm::<slot>::<label>/… */
export const hsmKeyRoutes = (svc: HsmKeyService) =>
  new Hono<AppEnv>()
    .post("/v1/hsm-keys", json(CreateHsmKeyBody), async (c) => {
      await note(c, { action: "kms:CreateKey" });
      const key = await svc.create(principalOf(c), c.req.valid("json"), c.var.call);
      await note(c, { action: "kms:CreateKey", keyId: key.keyId });
      return c.json({ key }, 201);
    })
    .get("/v1/hsm-keys", query(ListHsmKeysQuery), async (c) => {
      await note(c, { action: "kms:ListKeys" });
      const { slot, limit, cursor } = c.req.valid("query");
      const page = await svc.list(principalOf(c), slot, limit, cursor);
      return c.json({ keys: page.keys, ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .delete("/v1/hsm-keys/:keyId", query(DeleteHsmKeyQuery), async (c) => {
      await note(c, { action: "kms:ScheduleKeyDeletion", keyId: c.req.param("keyId") });
      const key = await svc.scheduleDeletion(principalOf(c), c.req.param("keyId"), c.req.valid("query").pendingWindowInDays);
      return c.json({ keyMetadata: keyMetadata(key) });
    })
    .get("/v1/hsm-keys/:keyId/public-key", async (c) => {
      await note(c, { action: "kms:GetPublicKey", keyId: c.req.param("keyId") });
      return c.json({ keyId: c.req.param("keyId"), publicKey: toB64(await svc.publicKey(principalOf(c), c.req.param("keyId"), c.var.call)) });
    })
    .post("/v1/hsm-keys/:keyId/encrypt", json(HsmEncryptBody), async (c) => {
      await note(c, { action: "kms:Encrypt", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const ct = await svc.encrypt(principalOf(c), c.req.param("keyId"), b.algorithm, b.plaintext, b.encryptionContext, c.var.call);
      return c.json({ keyId: c.req.param("keyId"), ciphertextBlob: toB64(ct), algorithm: b.algorithm });
    })
    .post("/v1/hsm-keys/:keyId/decrypt", json(HsmDecryptBody), async (c) => {
      await note(c, { action: "kms:Decrypt", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const pt = await svc.decrypt(principalOf(c), c.req.param("keyId"), b.algorithm, b.ciphertextBlob, b.encryptionContext, c.var.call);
      return c.json({ keyId: c.req.param("keyId"), plaintext: toB64(pt) });
    })
    .post("/v1/hsm-keys/:keyId/sign", json(SignBody), async (c) => {
      await note(c, { action: "kms:Sign", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const sig = await svc.sign(principalOf(c), c.req.param("keyId"), b.signingAlgorithm, b.message, b.messageType, c.var.call);
      return c.json({ keyId: c.req.param("keyId"), signature: toB64(sig), signingAlgorithm: b.signingAlgorithm });
    })
    .post("/v1/hsm-keys/:keyId/verify", json(VerifyBody), async (c) => {
      await note(c, { action: "kms:Verify", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      const valid = await svc.verify(principalOf(c), c.req.param("keyId"), b.signingAlgorithm, b.message, b.messageType, b.signature, c.var.call);
      return c.json({ keyId: c.req.param("keyId"), signatureValid: valid, signingAlgorithm: b.signingAlgorithm });
    });
