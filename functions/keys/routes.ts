import { Hono } from "hono";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json, query } from "../http/validate.js";
import { toB64 } from "../../shared/protocol/codec.js";
import { AliasBody, ImportBody, AliasQuery, CreateKeyBody, keyMetadata, ListAliasesQuery, ListKeysQuery, ScheduleDeletionBody, TagBody, UntagBody, UpdateKeyBody } from "./schemas.js";
import type { AliasService } from "./aliases.js";
import type { KeyImport } from "./import.js";
import type { KeyLifecycle } from "./lifecycle.js";
import type { KeyService } from "./service.js";

export type KeyServices = { keys: KeyService; lifecycle: KeyLifecycle; aliases: AliasService; imports: KeyImport };

/** The key lifecycle under /v1/keys. */
export const keyRoutes = (s: KeyServices) =>
  new Hono<AppEnv>()
    .post("/v1/keys", json(CreateKeyBody), async (c) => {
      await note(c, { action: "kms:CreateKey" });
      const key = await s.keys.create(principalOf(c), c.req.valid("json"), c.var.call);
      await note(c, { action: "kms:CreateKey", keyId: key.keyId });
      return c.json({ keyMetadata: keyMetadata(key) }, 201);
    })
    .get("/v1/keys", query(ListKeysQuery), async (c) => {
      await note(c, { action: "kms:ListKeys" });
      const { limit, cursor, state, keySpec, tag, alias } = c.req.valid("query");
      const page = await s.keys.list(principalOf(c), limit, cursor, { state, keySpec, tag, alias, describable: true });
      return c.json({ keys: page.items.map(keyMetadata), ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .get("/v1/keys/:keyId", async (c) => {
      await note(c, { action: "kms:DescribeKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.keys.describe(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/enable", async (c) => {
      await note(c, { action: "kms:EnableKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.lifecycle.enable(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/disable", async (c) => {
      await note(c, { action: "kms:DisableKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.lifecycle.disable(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/schedule-deletion", json(ScheduleDeletionBody), async (c) => {
      await note(c, { action: "kms:ScheduleKeyDeletion", keyId: c.req.param("keyId") });
      const key = await s.lifecycle.scheduleDeletion(principalOf(c), c.req.param("keyId"), c.req.valid("json").pendingWindowInDays);
      return c.json({ keyMetadata: keyMetadata(key) });
    })
    .post("/v1/keys/:keyId/cancel-deletion", async (c) => {
      await note(c, { action: "kms:CancelKeyDeletion", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.lifecycle.cancelDeletion(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/rotate", async (c) => {
      await note(c, { action: "kms:RotateKeyOnDemand", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.lifecycle.rotate(principalOf(c), c.req.param("keyId"), c.var.call)) });
    })
    .post("/v1/keys/:keyId/import-parameters", async (c) => {
      await note(c, { action: "kms:GetParametersForImport", keyId: c.req.param("keyId") });
      const p = await s.imports.parameters(principalOf(c), c.req.param("keyId"), c.var.call);
      return c.json({ keyId: p.key.arn, publicKey: toB64(p.publicKey), importToken: toB64(p.importToken), wrappingAlgorithm: p.wrappingAlgorithm, parametersValidTo: p.parametersValidTo });
    })
    .post("/v1/keys/:keyId/delete-imported-material", async (c) => {
      await note(c, { action: "kms:DeleteImportedKeyMaterial", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.imports.deleteMaterial(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/import", json(ImportBody), async (c) => {
      await note(c, { action: "kms:ImportKeyMaterial", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      return c.json({ keyMetadata: keyMetadata(await s.imports.importMaterial(principalOf(c), c.req.param("keyId"), b.importToken, b.encryptedKeyMaterial, c.var.call)) });
    })
    .get("/v1/keys/:keyId/usage", async (c) => {
      await note(c, { action: "kms:DescribeKey", keyId: c.req.param("keyId") });
      return c.json(await s.keys.usage(principalOf(c), c.req.param("keyId")));
    })
    .get("/v1/keys/:keyId/versions", async (c) => {
      await note(c, { action: "kms:ListKeyRotations", keyId: c.req.param("keyId") });
      return c.json({ versions: await s.lifecycle.listVersions(principalOf(c), c.req.param("keyId")) });
    })
    .patch("/v1/keys/:keyId", json(UpdateKeyBody), async (c) => {
      await note(c, { action: "kms:UpdateKeyDescription", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.keys.updateDescription(principalOf(c), c.req.param("keyId"), c.req.valid("json").description)) });
    })
    .post("/v1/keys/:keyId/tags", json(TagBody), async (c) => {
      await note(c, { action: "kms:TagResource", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.keys.tag(principalOf(c), c.req.param("keyId"), c.req.valid("json").tags)) });
    })
    .post("/v1/keys/:keyId/untag", json(UntagBody), async (c) => {
      await note(c, { action: "kms:UntagResource", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.keys.untag(principalOf(c), c.req.param("keyId"), c.req.valid("json").tagKeys)) });
    })
    .post("/v1/aliases", json(AliasBody), async (c) => {
      await note(c, { action: "kms:CreateAlias", keyId: c.req.valid("json").targetKeyId });
      const b = c.req.valid("json");
      return c.json({ alias: await s.aliases.create(principalOf(c), b.aliasName, b.targetKeyId) }, 201);
    })
    .put("/v1/aliases", json(AliasBody), async (c) => {
      await note(c, { action: "kms:UpdateAlias", keyId: c.req.valid("json").targetKeyId });
      const b = c.req.valid("json");
      return c.json({ alias: await s.aliases.update(principalOf(c), b.aliasName, b.targetKeyId) });
    })
    .delete("/v1/aliases", query(AliasQuery), async (c) => {
      await note(c, { action: "kms:DeleteAlias" });
      await s.aliases.delete(principalOf(c), c.req.valid("query").aliasName);
      return c.json({ deleted: c.req.valid("query").aliasName });
    })
    .get("/v1/aliases", query(ListAliasesQuery), async (c) => {
      await note(c, { action: "kms:ListAliases" });
      return c.json({ aliases: await s.aliases.list(principalOf(c), c.req.valid("query").keyId) });
    });
