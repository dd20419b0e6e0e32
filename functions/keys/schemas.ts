import * as z from "zod";
import { Blob, PolicyJson } from "../http/validate.js";
import { KeySpec, KeyUsage, type KeyRecord } from "./model.js";

const Tags = z.record(z.string().min(1).max(128), z.string().max(256)).refine((t) => Object.keys(t).length <= 50, "at most 50 tags");

export const CreateKeyBody = z
  .object({
    description: z.string().max(8192).optional(),
    keySpec: KeySpec.optional(),
    keyUsage: KeyUsage.optional(),
    tags: Tags.optional(),
    rotationPeriodDays: z.number().int().min(90).max(2560).optional(),
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

export const ScheduleDeletionBody = z.object({ pendingWindowInDays: z.number().int().min(7).max(30).default(30) }).strict();

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

export const UpdateKeyBody = z.object({ description: z.string().max(8192) }).strict();
export const TagBody = z.object({ tags: Tags }).strict();
export const UntagBody = z.object({ tagKeys: z.array(z.string().min(1).max(128)).min(1).max(50) }).strict();

const AliasName = z.string().min(7).max(256);
export const AliasBody = z.object({ aliasName: AliasName, targetKeyId: z.string().min(1).max(2048) }).strict();
export const AliasQuery = z.object({ aliasName: AliasName });
export const ListAliasesQuery = z.object({ keyId: z.string().min(1).max(2048).optional() });

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
