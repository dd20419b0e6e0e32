import * as z from "zod";
import type { KmsErrorCode } from "../../shared/errors.js";
import { toB64 } from "../../shared/protocol/codec.js";
import { AccountId, AliasName, Blob, Description, KeyArn, KeyRef, MAX_TAGS, PendingWindowInDays, PolicyJson, RotationPeriodInDays, TagKey, TagValue, Timestamp } from "../contract/fields.js";
import { operation, type AnyOperation } from "../contract/operation.js";
import type { AliasService } from "./aliases.js";
import type { KeyImport } from "./import.js";
import type { KeyLifecycle } from "./lifecycle.js";
import { KeySpec, KeyState, KeyUsage, type KeyRecord } from "./model.js";
import type { KeyService } from "./service.js";

/** The services key management runs on. */
export type KeyServices = { keys: KeyService; lifecycle: KeyLifecycle; aliases: AliasService; imports: KeyImport };

export const Tags = z
  .record(TagKey, TagValue)
  .refine((t) => Object.keys(t).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`)
  .meta({ examples: [{ team: "payments", env: "prod" }] });

/** A key as the native API shows it (never its material). */
export const KeyMetadata = z.object({
  keyId: z.string().meta({ examples: ["1234abcd-12ab-34cd-56ef-1234567890ab"] }),
  arn: KeyArn,
  accountId: AccountId,
  description: Description,
  keySpec: KeySpec,
  keyUsage: KeyUsage,
  origin: z.enum(["TETHER", "EXTERNAL", "HSM"]),
  keyState: KeyState,
  enabled: z.boolean(),
  creationDate: Timestamp,
  deletionDate: Timestamp.optional(),
  rotationPeriodInDays: RotationPeriodInDays.optional(),
  nextRotationDate: Timestamp.optional(),
  currentVersion: z.number().int().min(1),
  expirationDate: Timestamp.optional(),
  derived: z.boolean(),
  exportable: z.boolean(),
  wrappingKeyId: z.string().optional(),
  tags: Tags,
});
export const KeyMetadataAnswer = z.object({ keyMetadata: KeyMetadata });

export const keyMetadata = (k: KeyRecord): z.input<typeof KeyMetadata> => ({
  keyId: k.keyId,
  arn: k.arn,
  accountId: k.tenant,
  description: k.description,
  keySpec: k.spec,
  keyUsage: k.usage,
  origin: k.origin,
  keyState: k.state,
  enabled: k.state === "Enabled",
  creationDate: k.createdAt,
  ...(k.deletionDate ? { deletionDate: k.deletionDate } : {}),
  ...(k.rotationPeriodDays ? { rotationPeriodInDays: k.rotationPeriodDays, nextRotationDate: k.nextRotationAt } : {}),
  currentVersion: k.primaryVersion,
  ...(k.expiresAt ? { expirationDate: k.expiresAt } : {}),
  derived: k.derived ?? false,
  exportable: k.exportable ?? false,
  ...(k.wrappingKeyId ? { wrappingKeyId: k.wrappingKeyId } : {}),
  tags: k.tags,
});

export const Alias = z.object({ tenant: AccountId, aliasName: AliasName, keyId: z.string().meta({ examples: ["1234abcd-12ab-34cd-56ef-1234567890ab"] }), createdAt: Timestamp, updatedAt: Timestamp.optional() });

const KEY: readonly KmsErrorCode[] = ["NotFoundException"];
const CHANGE: readonly KmsErrorCode[] = ["NotFoundException", "KMSInvalidStateException"];
const answered = { keyMetadata: KeyMetadata };
const asMetadata = (key: KeyRecord) => ({ keyMetadata: keyMetadata(key) });
const Key = { keyId: KeyRef };

/** Key management, each operation defined once for every door (the AWS door renders the key its own way). */
export const KEY_OPERATIONS = {
  CreateKey: operation({
    name: "CreateKey",
    action: "kms:CreateKey",
    summary: "Create a key",
    description:
      "A new KMS key in the caller's tenant: symmetric (AES-256-GCM, the default), RSA, ECC or HMAC, of Tether's material or awaiting yours (origin EXTERNAL), optionally wrapped by an HSM-resident key. Its material is made in the HSM or sealed to it at once, and stored only wrapped.",
    input: {
      description: Description.optional(),
      keySpec: KeySpec.optional(),
      keyUsage: KeyUsage.optional(),
      tags: Tags.optional(),
      rotationPeriodDays: RotationPeriodInDays.optional(),
      expiresAt: z.iso.datetime({ offset: true }).optional(),
      derived: z.boolean().optional(),
      exportable: z.boolean().optional(),
      origin: z.enum(["TETHER", "EXTERNAL"]).optional(),
      wrappingKeyId: z.string().max(120).optional(),
      /** The key policy document (JSON); absent: the default policy. */
      policy: PolicyJson.optional(),
      bypassPolicyLockoutSafetyCheck: z.boolean().optional(),
    },
    output: answered,
    errors: ["MalformedPolicyDocumentException", "UnsupportedOperationException", "NotFoundException", "KMSInvalidStateException", "HsmUnavailableException"],
    run: (s: KeyServices, p, i, call) => s.keys.create(p, i, call),
    answer: asMetadata,
    resultKey: (key) => key.keyId,
  }),
  DescribeKey: operation({
    name: "DescribeKey",
    action: "kms:DescribeKey",
    summary: "Describe a key",
    description: "A key's metadata: spec, usage, state, dates, rotation, tags.",
    input: Key,
    output: answered,
    errors: KEY,
    run: (s: KeyServices, p, i) => s.keys.describe(p, i.keyId),
    answer: asMetadata,
  }),
  UpdateKeyDescription: operation({
    name: "UpdateKeyDescription",
    action: "kms:UpdateKeyDescription",
    summary: "Change a key's description",
    description: "Replaces the key's description.",
    input: { ...Key, description: Description },
    output: answered,
    errors: KEY,
    run: (s: KeyServices, p, i) => s.keys.updateDescription(p, i.keyId, i.description),
    answer: asMetadata,
  }),
  EnableKey: operation({
    name: "EnableKey",
    action: "kms:EnableKey",
    summary: "Enable a key",
    description: "Lets a Disabled key be used again.",
    input: Key,
    output: answered,
    errors: CHANGE,
    run: (s: KeyServices, p, i) => s.lifecycle.enable(p, i.keyId),
    answer: asMetadata,
  }),
  DisableKey: operation({
    name: "DisableKey",
    action: "kms:DisableKey",
    summary: "Disable a key",
    description: "Stops every use of the key until it is enabled again (within the metadata cache's bound on every instance).",
    input: Key,
    output: answered,
    errors: CHANGE,
    run: (s: KeyServices, p, i) => s.lifecycle.disable(p, i.keyId),
    answer: asMetadata,
  }),
  ScheduleKeyDeletion: operation({
    name: "ScheduleKeyDeletion",
    action: "kms:ScheduleKeyDeletion",
    summary: "Schedule a key's deletion",
    description:
      "After 7–30 days (30 by default) the key is destroyed: its wrapped material is erased and nothing it encrypted can be decrypted again. Until then it cannot be used, and the deletion can be cancelled.",
    input: { ...Key, pendingWindowInDays: PendingWindowInDays.default(30) },
    output: answered,
    errors: CHANGE,
    run: (s: KeyServices, p, i) => s.lifecycle.scheduleDeletion(p, i.keyId, i.pendingWindowInDays),
    answer: asMetadata,
  }),
  CancelKeyDeletion: operation({
    name: "CancelKeyDeletion",
    action: "kms:CancelKeyDeletion",
    summary: "Cancel a key's deletion",
    description: "The key is kept, Disabled (as AWS KMS does): enable it to use it again.",
    input: Key,
    output: answered,
    errors: CHANGE,
    run: (s: KeyServices, p, i) => s.lifecycle.cancelDeletion(p, i.keyId),
    answer: asMetadata,
  }),
  RotateKeyOnDemand: operation({
    name: "RotateKeyOnDemand",
    action: "kms:RotateKeyOnDemand",
    summary: "Rotate a key now",
    description: "A new version of the key's material becomes the one that encrypts; every earlier version still decrypts.",
    input: Key,
    output: answered,
    errors: [...CHANGE, "UnsupportedOperationException", "HsmUnavailableException"],
    run: (s: KeyServices, p, i, call) => s.lifecycle.rotate(p, i.keyId, call),
    answer: asMetadata,
  }),
  TagResource: operation({
    name: "TagResource",
    action: "kms:TagResource",
    summary: "Tag a key",
    description: "Adds or replaces tags (at most 50 per key); a key policy can decide on tags.",
    input: { ...Key, tags: Tags },
    output: answered,
    errors: [...KEY, "LimitExceededException"],
    run: (s: KeyServices, p, i) => s.keys.tag(p, i.keyId, i.tags),
    answer: asMetadata,
  }),
  UntagResource: operation({
    name: "UntagResource",
    action: "kms:UntagResource",
    summary: "Untag a key",
    description: "Removes the named tags.",
    input: { ...Key, tagKeys: z.array(TagKey).min(1).max(MAX_TAGS) },
    output: answered,
    errors: KEY,
    run: (s: KeyServices, p, i) => s.keys.untag(p, i.keyId, i.tagKeys),
    answer: asMetadata,
  }),
  GetParametersForImport: operation({
    name: "GetParametersForImport",
    action: "kms:GetParametersForImport",
    summary: "Get parameters to import key material",
    description: "A wrapping public key (RSA-2048, OAEP SHA-256) and an import token, valid 24 hours, for a key created with origin EXTERNAL.",
    input: Key,
    output: {
      keyId: KeyArn,
      publicKey: z.string().meta({ examples: ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA…"] }),
      importToken: z.string().meta({ examples: ["eyJ2IjoxLCJrZXlJZCI6…"] }),
      wrappingAlgorithm: z.literal("RSAES_OAEP_SHA_256"),
      parametersValidTo: Timestamp,
    },
    errors: [...CHANGE, "HsmUnavailableException"],
    run: (s: KeyServices, p, i, call) => s.imports.parameters(p, i.keyId, call),
    answer: (out) => ({ keyId: out.key.arn, publicKey: toB64(out.publicKey), importToken: toB64(out.importToken), wrappingAlgorithm: out.wrappingAlgorithm, parametersValidTo: out.parametersValidTo }),
  }),
  ImportKeyMaterial: operation({
    name: "ImportKeyMaterial",
    action: "kms:ImportKeyMaterial",
    summary: "Import key material",
    description: "Your 256-bit key material, encrypted to the import's public key; the key becomes Enabled. A re-import must bring the same material.",
    input: { ...Key, importToken: Blob(16 * 1024), encryptedKeyMaterial: Blob(1024) },
    output: answered,
    errors: [...CHANGE, "InvalidCiphertextException", "IncorrectKeyMaterialException", "HsmUnavailableException"],
    run: (s: KeyServices, p, i, call) => s.imports.importMaterial(p, i.keyId, i.importToken, i.encryptedKeyMaterial, call),
    answer: asMetadata,
  }),
  DeleteImportedKeyMaterial: operation({
    name: "DeleteImportedKeyMaterial",
    action: "kms:DeleteImportedKeyMaterial",
    summary: "Delete imported key material",
    description: "The imported material is erased at once; the key waits for the same material again (PendingImport).",
    input: Key,
    output: answered,
    errors: [...CHANGE, "UnsupportedOperationException"],
    run: (s: KeyServices, p, i) => s.imports.deleteMaterial(p, i.keyId),
    answer: asMetadata,
  }),
  CreateAlias: operation({
    name: "CreateAlias",
    action: "kms:CreateAlias",
    summary: "Create an alias",
    description: "A name (alias/…) for a key of the tenant, usable wherever a key id is.",
    input: { aliasName: AliasName, targetKeyId: KeyRef },
    output: { alias: Alias },
    errors: [...KEY, "AlreadyExistsException"],
    audited: (i) => ({ keyId: i.targetKeyId }),
    run: async (s: KeyServices, p, i) => ({ alias: await s.aliases.create(p, i.aliasName, i.targetKeyId) }),
  }),
  UpdateAlias: operation({
    name: "UpdateAlias",
    action: "kms:UpdateAlias",
    summary: "Point an alias at another key",
    description: "Needs UpdateAlias on both the key it names now and the new one.",
    input: { aliasName: AliasName, targetKeyId: KeyRef },
    output: { alias: Alias },
    errors: KEY,
    audited: (i) => ({ keyId: i.targetKeyId }),
    run: async (s: KeyServices, p, i) => ({ alias: await s.aliases.update(p, i.aliasName, i.targetKeyId) }),
  }),
  DeleteAlias: operation({
    name: "DeleteAlias",
    action: "kms:DeleteAlias",
    summary: "Delete an alias",
    description: "The alias goes; the key stays.",
    input: { aliasName: AliasName },
    output: { deleted: AliasName },
    errors: KEY,
    run: async (s: KeyServices, p, i) => (await s.aliases.delete(p, i.aliasName), { deleted: i.aliasName }),
  }),
} satisfies Record<string, AnyOperation<KeyServices>>;
