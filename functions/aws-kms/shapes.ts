import * as z from "zod";
import { MAX_TAGS, TagKey, TagValue } from "../contract/fields.js";
import type { KeyRecord } from "../keys/model.js";
import { algorithmsOf } from "../keys/specs.js";

/** The AWS KMS protocol's content type. */
export const AWS_JSON = "application/x-amz-json-1.1";

/** AWS KMS JSON shapes of its own (PascalCase; times in epoch seconds); the fields operations share are in contract/fields.ts. */
export const Tags = z.array(z.object({ TagKey, TagValue })).max(MAX_TAGS);
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
