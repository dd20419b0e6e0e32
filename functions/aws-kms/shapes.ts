import * as z from "zod";
import type { KeyRecord } from "../keys/model.js";
import { algorithmsOf } from "../keys/specs.js";

/** The AWS KMS protocol's content type. */
export const AWS_JSON = "application/x-amz-json-1.1";

/** AWS KMS JSON shapes (PascalCase, blobs in base64, times in epoch seconds). */
export const KeyIdRef = z.string().min(1).max(2048);
export const AwsBlob = (max: number) =>
  z
    .string()
    .max(Math.ceil(max / 3) * 4 + 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64")
    .transform((s) => new Uint8Array(Buffer.from(s, "base64")))
    .refine((b) => b.length >= 1 && b.length <= max, `must decode to 1–${max} bytes`);
export const AwsContext = z.record(z.string().min(1).max(256), z.string().max(4096)).refine((c) => Object.keys(c).length <= 64, "at most 64 entries").optional();
export const GrantTokens = z.array(z.string().max(8192)).max(10).optional();
export const Tags = z.array(z.object({ TagKey: z.string().min(1).max(128), TagValue: z.string().max(256) })).max(50);
export const Limit = z.number().int().min(1).max(1000).optional();
export const Marker = z.string().min(1).max(2048).optional();

export const epochSeconds = (iso: string | undefined): number | undefined => (iso ? Math.floor(Date.parse(iso) / 1000) : undefined);

/** A key's metadata as AWS's KeyMetadata. */
export function awsKeyMetadata(k: KeyRecord) {
  const algorithms = algorithmsOf(k.spec, k.usage);
  return {
    AWSAccountId: k.tenant,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: epochSeconds(k.createdAt),
    Enabled: k.state === "Enabled",
    Description: k.description,
    KeyUsage: k.usage,
    KeyState: k.state,
    ...(k.deletionDate ? { DeletionDate: epochSeconds(k.deletionDate) } : {}),
    ...(k.expiresAt ? { ValidTo: epochSeconds(k.expiresAt), ExpirationModel: "KEY_MATERIAL_EXPIRES" } : {}),
    Origin: k.origin === "EXTERNAL" ? "EXTERNAL" : k.origin === "HSM" ? "AWS_CLOUDHSM" : "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: k.spec,
    KeySpec: k.spec,
    ...(algorithms.encryption.length ? { EncryptionAlgorithms: algorithms.encryption } : {}),
    ...(algorithms.signing.length ? { SigningAlgorithms: algorithms.signing } : {}),
    ...(algorithms.mac.length ? { MacAlgorithms: algorithms.mac } : {}),
    MultiRegion: false,
  };
}
