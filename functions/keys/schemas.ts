import * as z from "zod";
import { AccountId, AliasName, Blob, Description, KeyArn, KeyRef, MAX_TAGS, PendingWindowInDays, RotationPeriodInDays, TagKey, TagValue, Timestamp } from "../contract/fields.js";
import { PolicyJson } from "../http/validate.js";
import { KeySpec, KeyState, KeyUsage, type KeyRecord } from "./model.js";

const Tags = z
  .record(TagKey, TagValue)
  .refine((t) => Object.keys(t).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`)
  .meta({ examples: [{ team: "payments", env: "prod" }] });

export const CreateKeyBody = z
  .object({
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
  })
  .strict();

export const ScheduleDeletionBody = z.object({ pendingWindowInDays: PendingWindowInDays.default(30) }).strict();

export const ListKeysQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(2048).optional(),
  state: z.enum(["Enabled", "Disabled", "PendingDeletion", "PendingImport", "Destroyed"]).optional(),
  keySpec: KeySpec.optional(),
  alias: z.string().min(7).max(256).optional(),
  /** `key=value` */
  tag: z
    .string()
    .regex(/^[^=]{1,128}=.{0,256}$/, "key=value")
    .transform((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)] as [string, string])
    .optional(),
});

export const UpdateKeyBody = z.object({ description: Description }).strict();
export const TagBody = z.object({ tags: Tags }).strict();
export const UntagBody = z.object({ tagKeys: z.array(TagKey).min(1).max(MAX_TAGS) }).strict();

export const AliasBody = z.object({ aliasName: AliasName, targetKeyId: KeyRef }).strict();
export const AliasQuery = z.object({ aliasName: AliasName });
export const ListAliasesQuery = z.object({ keyId: KeyRef.optional() });

/** A key as answers show it (never its material). */
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
export const KeyList = z.object({ keys: z.array(KeyMetadata), nextCursor: z.string().optional() });
export const Alias = z.object({ tenant: AccountId, aliasName: AliasName, keyId: z.string().meta({ examples: ["1234abcd-12ab-34cd-56ef-1234567890ab"] }), createdAt: Timestamp, updatedAt: Timestamp.optional() });
export const KeyVersionView = z.object({ version: z.number().int().min(1), createdAt: Timestamp, rotationType: z.enum(["AUTOMATIC", "ON_DEMAND"]).optional() });
export const KeyUsageView = z.object({ counts: z.record(z.string(), z.number().int()).meta({ examples: [{ Encrypt: 1200, Decrypt: 950 }] }), lastUsedAt: Timestamp.optional() });
export const ImportParameters = z.object({ keyId: KeyArn, publicKey: z.string().meta({ examples: ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA…"] }), importToken: z.string().meta({ examples: ["eyJ2IjoxLCJrZXlJZCI6…"] }), wrappingAlgorithm: z.literal("RSAES_OAEP_SHA_256"), parametersValidTo: Timestamp });

/** A key as the API shows it: never its material. */
export const keyMetadata = (k: KeyRecord) => ({
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

export const ImportBody = z.object({ importToken: Blob(16 * 1024), encryptedKeyMaterial: Blob(1024) }).strict();
