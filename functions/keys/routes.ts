import { Hono } from "hono";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json, query } from "../http/validate.js";
import { toB64 } from "../../shared/protocol/codec.js";
import * as z from "zod";
import { described } from "../http/openapi.js";
import { Alias, AliasBody, ImportBody, ImportParameters, AliasQuery, CreateKeyBody, KeyList, keyMetadata, KeyMetadataAnswer, KeyUsageView, KeyVersionView, ListAliasesQuery, ListKeysQuery, ScheduleDeletionBody, TagBody, UntagBody, UpdateKeyBody } from "./schemas.js";
import type { AliasService } from "./aliases.js";
import type { KeyImport } from "./import.js";
import type { KeyLifecycle } from "./lifecycle.js";
import type { KeyService } from "./service.js";

export type KeyServices = { keys: KeyService; lifecycle: KeyLifecycle; aliases: AliasService; imports: KeyImport };

/** The key lifecycle under /v1/keys. */
export const keyRoutes = (s: KeyServices) =>
  new Hono<AppEnv>()
    .post("/v1/keys", json(CreateKeyBody), described({ operationId: "CreateKey", summary: "Create a key", description: "A new KMS key in the caller's tenant: symmetric (AES-256-GCM, the default), RSA, ECC or HMAC, of Tether's material or awaiting yours (origin EXTERNAL), optionally wrapped by an HSM-resident key. Its material is made in the HSM or sealed to it at once, and stored only wrapped.", response: KeyMetadataAnswer, errors: ["MalformedPolicyDocumentException", "UnsupportedOperationException", "NotFoundException", "KMSInvalidStateException", "HsmUnavailableException"], status: 201 }), async (c) => {
      await note(c, { action: "kms:CreateKey" });
      const key = await s.keys.create(principalOf(c), c.req.valid("json"), c.var.call);
      await note(c, { action: "kms:CreateKey", keyId: key.keyId });
      return c.json({ keyMetadata: keyMetadata(key) }, 201);
    })
    .get("/v1/keys", query(ListKeysQuery), described({ operationId: "ListKeys", summary: "List keys", description: "A page of the tenant's keys the caller may describe, filtered by state, key spec, tag or alias (a filtered page may come back short; follow nextCursor).", response: KeyList, errors: [] }), async (c) => {
      await note(c, { action: "kms:ListKeys" });
      const { limit, cursor, state, keySpec, tag, alias } = c.req.valid("query");
      const page = await s.keys.list(principalOf(c), limit, cursor, { state, keySpec, tag, alias, describable: true });
      return c.json({ keys: page.items.map(keyMetadata), ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .get("/v1/keys/:keyId", described({ operationId: "DescribeKey", summary: "Describe a key", description: "A key's metadata: spec, usage, state, dates, rotation, tags.", response: KeyMetadataAnswer, errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:DescribeKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.keys.describe(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/enable", described({ operationId: "EnableKey", summary: "Enable a key", description: "Lets a Disabled key be used again.", response: KeyMetadataAnswer, errors: ["NotFoundException", "KMSInvalidStateException"] }), async (c) => {
      await note(c, { action: "kms:EnableKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.lifecycle.enable(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/disable", described({ operationId: "DisableKey", summary: "Disable a key", description: "Stops every use of the key until it is enabled again (within the metadata cache's bound on every instance).", response: KeyMetadataAnswer, errors: ["NotFoundException", "KMSInvalidStateException"] }), async (c) => {
      await note(c, { action: "kms:DisableKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.lifecycle.disable(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/schedule-deletion", json(ScheduleDeletionBody), described({ operationId: "ScheduleKeyDeletion", summary: "Schedule a key's deletion", description: "After 7\u201330 days (30 by default) the key is destroyed: its wrapped material is erased and nothing it encrypted can be decrypted again. Until then it cannot be used, and the deletion can be cancelled.", response: KeyMetadataAnswer, errors: ["NotFoundException", "KMSInvalidStateException"] }), async (c) => {
      await note(c, { action: "kms:ScheduleKeyDeletion", keyId: c.req.param("keyId") });
      const key = await s.lifecycle.scheduleDeletion(principalOf(c), c.req.param("keyId"), c.req.valid("json").pendingWindowInDays);
      return c.json({ keyMetadata: keyMetadata(key) });
    })
    .post("/v1/keys/:keyId/cancel-deletion", described({ operationId: "CancelKeyDeletion", summary: "Cancel a key's deletion", description: "The key is kept, Disabled (as AWS KMS does): enable it to use it again.", response: KeyMetadataAnswer, errors: ["NotFoundException", "KMSInvalidStateException"] }), async (c) => {
      await note(c, { action: "kms:CancelKeyDeletion", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.lifecycle.cancelDeletion(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/rotate", described({ operationId: "RotateKeyOnDemand", summary: "Rotate a key now", description: "A new version of the key's material becomes the one that encrypts; every earlier version still decrypts.", response: KeyMetadataAnswer, errors: ["NotFoundException", "KMSInvalidStateException", "UnsupportedOperationException", "HsmUnavailableException"] }), async (c) => {
      await note(c, { action: "kms:RotateKeyOnDemand", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.lifecycle.rotate(principalOf(c), c.req.param("keyId"), c.var.call)) });
    })
    .post("/v1/keys/:keyId/import-parameters", described({ operationId: "GetParametersForImport", summary: "Get parameters to import key material", description: "A wrapping public key (RSA-2048, OAEP SHA-256) and an import token, valid 24 hours, for a key created with origin EXTERNAL.", response: ImportParameters, errors: ["NotFoundException", "KMSInvalidStateException", "HsmUnavailableException"] }), async (c) => {
      await note(c, { action: "kms:GetParametersForImport", keyId: c.req.param("keyId") });
      const p = await s.imports.parameters(principalOf(c), c.req.param("keyId"), c.var.call);
      return c.json({ keyId: p.key.arn, publicKey: toB64(p.publicKey), importToken: toB64(p.importToken), wrappingAlgorithm: p.wrappingAlgorithm, parametersValidTo: p.parametersValidTo });
    })
    .post("/v1/keys/:keyId/delete-imported-material", described({ operationId: "DeleteImportedKeyMaterial", summary: "Delete imported key material", description: "The imported material is erased at once; the key waits for the same material again (PendingImport).", response: KeyMetadataAnswer, errors: ["NotFoundException", "KMSInvalidStateException", "UnsupportedOperationException"] }), async (c) => {
      await note(c, { action: "kms:DeleteImportedKeyMaterial", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.imports.deleteMaterial(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/import", json(ImportBody), described({ operationId: "ImportKeyMaterial", summary: "Import key material", description: "Your 256-bit key material, encrypted to the import's public key; the key becomes Enabled. A re-import must bring the same material.", response: KeyMetadataAnswer, errors: ["NotFoundException", "KMSInvalidStateException", "InvalidCiphertextException", "IncorrectKeyMaterialException", "HsmUnavailableException"] }), async (c) => {
      await note(c, { action: "kms:ImportKeyMaterial", keyId: c.req.param("keyId") });
      const b = c.req.valid("json");
      return c.json({ keyMetadata: keyMetadata(await s.imports.importMaterial(principalOf(c), c.req.param("keyId"), b.importToken, b.encryptedKeyMaterial, c.var.call)) });
    })
    .get("/v1/keys/:keyId/usage", described({ operationId: "GetKeyUsage", summary: "Get a key's usage", description: "How often each operation used the key, and when it was last used (counted in memory, written every 30 s).", response: KeyUsageView, errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:DescribeKey", keyId: c.req.param("keyId") });
      return c.json(await s.keys.usage(principalOf(c), c.req.param("keyId")));
    })
    .get("/v1/keys/:keyId/versions", described({ operationId: "ListKeyVersions", summary: "List a key's versions", description: "Every version of the key's material: when it was made and how (automatic or on-demand rotation).", response: z.object({ versions: z.array(KeyVersionView) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:ListKeyRotations", keyId: c.req.param("keyId") });
      return c.json({ versions: await s.lifecycle.listVersions(principalOf(c), c.req.param("keyId")) });
    })
    .patch("/v1/keys/:keyId", json(UpdateKeyBody), described({ operationId: "UpdateKeyDescription", summary: "Change a key's description", description: "Replaces the key's description.", response: KeyMetadataAnswer, errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:UpdateKeyDescription", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.keys.updateDescription(principalOf(c), c.req.param("keyId"), c.req.valid("json").description)) });
    })
    .post("/v1/keys/:keyId/tags", json(TagBody), described({ operationId: "TagResource", summary: "Tag a key", description: "Adds or replaces tags (at most 50 per key); a key policy can decide on tags.", response: KeyMetadataAnswer, errors: ["NotFoundException", "LimitExceededException"] }), async (c) => {
      await note(c, { action: "kms:TagResource", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.keys.tag(principalOf(c), c.req.param("keyId"), c.req.valid("json").tags)) });
    })
    .post("/v1/keys/:keyId/untag", json(UntagBody), described({ operationId: "UntagResource", summary: "Untag a key", description: "Removes the named tags.", response: KeyMetadataAnswer, errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:UntagResource", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await s.keys.untag(principalOf(c), c.req.param("keyId"), c.req.valid("json").tagKeys)) });
    })
    .post("/v1/aliases", json(AliasBody), described({ operationId: "CreateAlias", summary: "Create an alias", description: "A name (alias/\u2026) for a key of the tenant, usable wherever a key id is.", response: z.object({ alias: Alias }), errors: ["NotFoundException", "AlreadyExistsException"], status: 201 }), async (c) => {
      await note(c, { action: "kms:CreateAlias", keyId: c.req.valid("json").targetKeyId });
      const b = c.req.valid("json");
      return c.json({ alias: await s.aliases.create(principalOf(c), b.aliasName, b.targetKeyId) }, 201);
    })
    .put("/v1/aliases", json(AliasBody), described({ operationId: "UpdateAlias", summary: "Point an alias at another key", description: "Needs UpdateAlias on both the key it names now and the new one.", response: z.object({ alias: Alias }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:UpdateAlias", keyId: c.req.valid("json").targetKeyId });
      const b = c.req.valid("json");
      return c.json({ alias: await s.aliases.update(principalOf(c), b.aliasName, b.targetKeyId) });
    })
    .delete("/v1/aliases", query(AliasQuery), described({ operationId: "DeleteAlias", summary: "Delete an alias", description: "The alias goes; the key stays.", response: z.object({ deleted: z.string().meta({ examples: ["alias/payments"] }) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:DeleteAlias" });
      await s.aliases.delete(principalOf(c), c.req.valid("query").aliasName);
      return c.json({ deleted: c.req.valid("query").aliasName });
    })
    .get("/v1/aliases", query(ListAliasesQuery), described({ operationId: "ListAliases", summary: "List aliases", description: "The tenant's aliases, or those of one key.", response: z.object({ aliases: z.array(Alias) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:ListAliases" });
      return c.json({ aliases: await s.aliases.list(principalOf(c), c.req.valid("query").keyId) });
    });
