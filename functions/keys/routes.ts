import { Hono } from "hono";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json, query } from "../http/validate.js";
import { toB64 } from "../../shared/protocol/codec.js";
import { AliasBody, ImportBody, AliasQuery, CreateKeyBody, keyMetadata, ListAliasesQuery, ListKeysQuery, ScheduleDeletionBody, TagBody, UntagBody, UpdateKeyBody } from "./schemas.js";
import type { KeyService } from "./service.js";

/** The key lifecycle under /v1/keys. */
export const keyRoutes = (svc: KeyService) =>
  new Hono<AppEnv>()
    .post("/v1/keys", json(CreateKeyBody), async (c) => {
      await note(c, { action: "kms:CreateKey" });
      const key = await svc.create(principalOf(c), c.req.valid("json"), c.var.call);
      await note(c, { action: "kms:CreateKey", keyId: key.keyId });
      return c.json({ keyMetadata: keyMetadata(key) }, 201);
    })
    .get("/v1/keys", query(ListKeysQuery), async (c) => {
      await note(c, { action: "kms:ListKeys" });
      const { limit, cursor, state, keySpec, tag, alias } = c.req.valid("query");
      const page = await svc.list(principalOf(c), limit, cursor, { state, keySpec, tag, alias, describable: true });
      return c.json({ keys: page.items.map(keyMetadata), ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .get("/v1/keys/:keyId", async (c) => {
      await note(c, { action: "kms:DescribeKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.describe(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/enable", async (c) => {
      await note(c, { action: "kms:EnableKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.enable(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/disable", async (c) => {
      await note(c, { action: "kms:DisableKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.disable(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/schedule-deletion", json(ScheduleDeletionBody), async (c) => {
      await note(c, { action: "kms:ScheduleKeyDeletion", keyId: c.req.param("keyId") });
      const key = await svc.scheduleDeletion(principalOf(c), c.req.param("keyId"), c.req.valid("json").pendingWindowInDays);
      return c.json({ keyMetadata: keyMetadata(key) });
    })
    .post("/v1/keys/:keyId/cancel-deletion", async (c) => {
      await note(c, { action: "kms:CancelKeyDeletion", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.cancelDeletion(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/rotate", async (c) => {
      await note(c, { action: "kms:RotateKeyOnDemand", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.rotate(principalOf(c), c.req.param("keyId"), c.var.call)) });
    })
    .post("/v1/keys/:keyId/import-parameters", async (c) => {
      await note(c, { action: "kms:GetParametersForImport", keyId: c.req.param("keyId") });
      const p = await svc.importParameters(principalOf(c), c.req.param("keyId"), c.var.call);
      return c.json({ keyId: p.key.arn, publicKey: toB64(p.publicKey), importToken: toB64(p.importToken), wrappingAlgorithm: p.wrappingAlgorithm, parametersValidTo: p.parametersValidTo });
    })
    .post("/v1/keys/:keyId/delete-imported-material", async (c) => {
      await note(c, { action: "kms:DeleteImportedKeyMaterial", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.deleteImportedMaterial(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/import", json(ImportBody), async (c) => {
      await note(c, { action: "kms:ImportKeyMaterial", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      return c.json({ keyMetadata: keyMetadata(await svc.importMaterial(principalOf(c), c.req.param("keyId"), b.importToken, b.encryptedKeyMaterial, c.var.call)) });
    })
    .get("/v1/keys/:keyId/usage", async (c) => {
      await note(c, { action: "kms:DescribeKey", keyId: c.req.param("keyId") });
      return c.json(await svc.usage(principalOf(c), c.req.param("keyId")));
    })
    .get("/v1/keys/:keyId/versions", async (c) => {
      await note(c, { action: "kms:ListKeyRotations", keyId: c.req.param("keyId") });
      return c.json({ versions: await svc.listVersions(principalOf(c), c.req.param("keyId")) });
    })
    .patch("/v1/keys/:keyId", json(UpdateKeyBody), async (c) => {
      await note(c, { action: "kms:UpdateKeyDescription", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.updateDescription(principalOf(c), c.req.param("keyId"), c.req.valid("json").description)) });
    })
    .post("/v1/keys/:keyId/tags", json(TagBody), async (c) => {
      await note(c, { action: "kms:TagResource", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.tag(principalOf(c), c.req.param("keyId"), c.req.valid("json").tags)) });
    })
    .post("/v1/keys/:keyId/untag", json(UntagBody), async (c) => {
      await note(c, { action: "kms:UntagResource", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.untag(principalOf(c), c.req.param("keyId"), c.req.valid("json").tagKeys)) });
    })
    .post("/v1/aliases", json(AliasBody), async (c) => {
      await note(c, { action: "kms:CreateAlias", keyId: c.req.valid("json").targetKeyId });
      const b = c.req.valid("json");
      return c.json({ alias: await svc.createAlias(principalOf(c), b.aliasName, b.targetKeyId) }, 201);
    })
    .put("/v1/aliases", json(AliasBody), async (c) => {
      await note(c, { action: "kms:UpdateAlias", keyId: c.req.valid("json").targetKeyId });
      const b = c.req.valid("json");
      return c.json({ alias: await svc.updateAlias(principalOf(c), b.aliasName, b.targetKeyId) });
    })
    .delete("/v1/aliases", query(AliasQuery), async (c) => {
      await note(c, { action: "kms:DeleteAlias" });
      await svc.deleteAlias(principalOf(c), c.req.valid("query").aliasName);
      return c.json({ deleted: c.req.valid("query").aliasName });
    })
    .get("/v1/aliases", query(ListAliasesQuery), async (c) => {
      await note(c, { action: "kms:ListAliases" });
      return c.json({ aliases: await svc.listAliases(principalOf(c), c.req.valid("query").keyId) });
    });
