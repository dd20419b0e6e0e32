import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import type { CallOpts } from "../../shared/hsm/port.js";
import { toB64 } from "../../shared/protocol/codec.js";
import type { CryptoService } from "../crypto-ops/service.js";
import type { GrantService } from "../grants/service.js";
import type { AliasService } from "../keys/aliases.js";
import type { KeyDirectory } from "../keys/directory.js";
import type { KeyImport } from "../keys/import.js";
import type { KeyLifecycle } from "../keys/lifecycle.js";
import type { KeyService } from "../keys/service.js";
import type { KeyPolicyService } from "../policy/service.js";
import type { GrantRecord } from "../grants/store.js";
import type { Principal } from "../identity/principal.js";
import { KeySpec, KeyUsage } from "../keys/model.js";
import { CRYPTO_OPERATIONS as CRYPTO } from "../crypto-ops/operations.js";
import { GRANT_OPERATIONS } from "../policy/actions.js";
import { fromContract, type AwsOperation } from "./codec.js";
import { AliasName, Blob, Description, GrantId, GrantPrincipal, GrantToken, GrantTokens, KeyRef as KeyIdRef, MAX_POLICY_CHARS, MAX_TAGS, PendingWindowInDays, RotationPeriodInDays, TagKey } from "../contract/fields.js";
import { awsKeyMetadata, epochSeconds, Limit, Marker, Tags } from "./shapes.js";

/** An outcome AWS reports as an error of its own (a signature or MAC that does not verify). */
export class AwsOutcome extends KmsError {
  constructor(
    readonly awsName: string,
    message: string,
  ) {
    super("ValidationException", message);
  }
}

/** The services the AWS door calls. */
export type KmsServices = { keys: KeyService; directory: KeyDirectory; lifecycle: KeyLifecycle; aliases: AliasService; imports: KeyImport; crypto: CryptoService; policies: KeyPolicyService; grants: GrantService };
type Services = KmsServices;
type Run<S extends z.ZodType> = (s: Services, p: Principal, input: z.output<S>, call: CallOpts) => Promise<object>;
export type Operation = AwsOperation<Services>;

/** An AWS operation of the AWS door's own (key management, grants, import), over AWS's shapes. */
const op = <S extends z.ZodType>(input: S, run: Run<S>): Operation => ({ input, run: run as Operation["run"] });
const obj = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strip();
/** A cryptographic operation of the contract (crypto-ops/operations.ts), through the AWS codec. */
const crypto = (operation: Parameters<typeof fromContract<Services, CryptoService>>[0], o?: Parameters<typeof fromContract>[2]) => fromContract(operation, (s: Services) => s.crypto, o);

const PolicyName = z.literal("default").default("default");
const Constraints = obj({ EncryptionContextSubset: z.record(z.string(), z.string()).optional(), EncryptionContextEquals: z.record(z.string(), z.string()).optional() });

const page = <T>(items: T[], limit: number | undefined, marker: string | undefined) => {
  const start = marker ? Number(marker) : 0;
  if (!Number.isInteger(start) || start < 0) throw new KmsError("ValidationException", "Marker is not valid");
  const end = start + (limit ?? 100);
  return { items: items.slice(start, end), truncated: end < items.length, next: String(end) };
};

const awsGrant = (g: GrantRecord, arn: string) => ({
  KeyId: arn,
  GrantId: g.grantId,
  ...(g.name ? { Name: g.name } : {}),
  CreationDate: epochSeconds(g.createdAt),
  GranteePrincipal: g.granteePrincipal,
  ...(g.retiringPrincipal ? { RetiringPrincipal: g.retiringPrincipal } : {}),
  IssuingAccount: `arn:aws:iam::${g.tenant}:root`,
  Operations: g.operations,
  ...(g.constraints
    ? { Constraints: { ...(g.constraints.encryptionContextEquals ? { EncryptionContextEquals: g.constraints.encryptionContextEquals } : {}), ...(g.constraints.encryptionContextSubset ? { EncryptionContextSubset: g.constraints.encryptionContextSubset } : {}) } }
    : {}),
});

/** The AWS KMS operations Tether answers, each a thin mapping onto the native services. */
export const OPERATIONS: Record<string, Operation> = {
  CreateKey: op(
    obj({
      Description: Description.optional(),
      KeyUsage: KeyUsage.optional(),
      KeySpec: KeySpec.optional(),
      CustomerMasterKeySpec: KeySpec.optional(),
      Origin: z.enum(["AWS_KMS", "EXTERNAL"]).optional(),
      Tags: Tags.optional(),
      Policy: z.string().max(MAX_POLICY_CHARS).optional(),
      BypassPolicyLockoutSafetyCheck: z.boolean().optional(),
      MultiRegion: z.literal(false).optional(),
    }),
    async (s, p, i, call) => {
      const key = await s.keys.create(
        p,
        {
          description: i.Description,
          keyUsage: i.KeyUsage,
          keySpec: i.KeySpec ?? i.CustomerMasterKeySpec,
          origin: i.Origin === "EXTERNAL" ? "EXTERNAL" : undefined,
          tags: i.Tags ? Object.fromEntries(i.Tags.map((t) => [t.TagKey, t.TagValue])) : undefined,
          policy: i.Policy,
          bypassPolicyLockoutSafetyCheck: i.BypassPolicyLockoutSafetyCheck,
        },
        call,
      );
      return { KeyMetadata: awsKeyMetadata(key) };
    },
  ),
  DescribeKey: op(obj({ KeyId: KeyIdRef, GrantTokens }), async (s, p, i) => ({ KeyMetadata: awsKeyMetadata(await s.keys.describe(p, i.KeyId)) })),
  ListKeys: op(obj({ Limit, Marker }), async (s, p, i) => {
    const out = await s.keys.list(p, i.Limit ?? 100, i.Marker);
    return { Keys: out.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: out.cursor !== undefined, ...(out.cursor ? { NextMarker: out.cursor } : {}) };
  }),
  UpdateKeyDescription: op(obj({ KeyId: KeyIdRef, Description }), async (s, p, i) => (await s.keys.updateDescription(p, i.KeyId, i.Description), {})),
  EnableKey: op(obj({ KeyId: KeyIdRef }), async (s, p, i) => (await s.lifecycle.enable(p, i.KeyId), {})),
  DisableKey: op(obj({ KeyId: KeyIdRef }), async (s, p, i) => (await s.lifecycle.disable(p, i.KeyId), {})),
  ScheduleKeyDeletion: op(obj({ KeyId: KeyIdRef, PendingWindowInDays: PendingWindowInDays.optional() }), async (s, p, i) => {
    const days = i.PendingWindowInDays ?? 30;
    const key = await s.lifecycle.scheduleDeletion(p, i.KeyId, days);
    return { KeyId: key.arn, DeletionDate: epochSeconds(key.deletionDate), KeyState: key.state, PendingWindowInDays: days };
  }),
  CancelKeyDeletion: op(obj({ KeyId: KeyIdRef }), async (s, p, i) => ({ KeyId: (await s.lifecycle.cancelDeletion(p, i.KeyId)).arn })),
  CreateAlias: op(obj({ AliasName, TargetKeyId: KeyIdRef }), async (s, p, i) => (await s.aliases.create(p, i.AliasName, i.TargetKeyId), {})),
  UpdateAlias: op(obj({ AliasName, TargetKeyId: KeyIdRef }), async (s, p, i) => (await s.aliases.update(p, i.AliasName, i.TargetKeyId), {})),
  DeleteAlias: op(obj({ AliasName }), async (s, p, i) => (await s.aliases.delete(p, i.AliasName), {})),
  ListAliases: op(obj({ KeyId: KeyIdRef.optional(), Limit, Marker }), async (s, p, i) => {
    const all = await s.aliases.list(p, i.KeyId);
    const { items, truncated, next } = page(all, i.Limit, i.Marker);
    return {
      Aliases: items.map((a) => ({ AliasName: a.aliasName, AliasArn: `arn:aws:kms:${s.directory.region}:${a.tenant}:${a.aliasName}`, TargetKeyId: a.keyId, CreationDate: epochSeconds(a.createdAt), LastUpdatedDate: epochSeconds(a.updatedAt ?? a.createdAt) })),
      Truncated: truncated,
      ...(truncated ? { NextMarker: next } : {}),
    };
  }),
  TagResource: op(obj({ KeyId: KeyIdRef, Tags }), async (s, p, i) => (await s.keys.tag(p, i.KeyId, Object.fromEntries(i.Tags.map((t) => [t.TagKey, t.TagValue]))), {})),
  UntagResource: op(obj({ KeyId: KeyIdRef, TagKeys: z.array(TagKey).min(1).max(MAX_TAGS) }), async (s, p, i) => (await s.keys.untag(p, i.KeyId, i.TagKeys), {})),
  ListResourceTags: op(obj({ KeyId: KeyIdRef, Limit, Marker }), async (s, p, i) => {
    const tags = Object.entries((await s.keys.describe(p, i.KeyId)).tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    const { items, truncated, next } = page(tags, i.Limit, i.Marker);
    return { Tags: items, Truncated: truncated, ...(truncated ? { NextMarker: next } : {}) };
  }),
  EnableKeyRotation: op(obj({ KeyId: KeyIdRef, RotationPeriodInDays: RotationPeriodInDays.optional() }), async (s, p, i) => (await s.lifecycle.setAutomaticRotation(p, i.KeyId, i.RotationPeriodInDays ?? 365), {})),
  DisableKeyRotation: op(obj({ KeyId: KeyIdRef }), async (s, p, i) => (await s.lifecycle.setAutomaticRotation(p, i.KeyId, undefined), {})),
  GetKeyRotationStatus: op(obj({ KeyId: KeyIdRef }), async (s, p, i) => {
    const key = await s.directory.authorized(p, i.KeyId, "kms:GetKeyRotationStatus");
    return { KeyId: key.keyId, KeyRotationEnabled: key.rotationPeriodDays !== undefined, ...(key.rotationPeriodDays ? { RotationPeriodInDays: key.rotationPeriodDays, NextRotationDate: epochSeconds(key.nextRotationAt) } : {}) };
  }),
  RotateKeyOnDemand: op(obj({ KeyId: KeyIdRef }), async (s, p, i, call) => ({ KeyId: (await s.lifecycle.rotate(p, i.KeyId, call)).keyId })),
  ListKeyRotations: op(obj({ KeyId: KeyIdRef, Limit, Marker }), async (s, p, i) => {
    const key = await s.keys.describe(p, i.KeyId);
    const rotations = (await s.lifecycle.listVersions(p, i.KeyId)).filter((v) => v.version > 1).map((v) => ({ KeyId: key.keyId, RotationDate: epochSeconds(v.createdAt), ...(v.rotationType ? { RotationType: v.rotationType } : {}) }));
    const { items, truncated, next } = page(rotations, i.Limit, i.Marker);
    return { Rotations: items, Truncated: truncated, ...(truncated ? { NextMarker: next } : {}) };
  }),
  Encrypt: crypto(CRYPTO.Encrypt, { omit: ["derivationContext"] }),
  Decrypt: crypto(CRYPTO.Decrypt, { omit: ["derivationContext"] }),
  ReEncrypt: crypto(CRYPTO.ReEncrypt),
  GenerateDataKey: crypto(CRYPTO.GenerateDataKey),
  GenerateDataKeyWithoutPlaintext: crypto(CRYPTO.GenerateDataKeyWithoutPlaintext),
  GenerateDataKeyPair: crypto(CRYPTO.GenerateDataKeyPair),
  GenerateDataKeyPairWithoutPlaintext: crypto(CRYPTO.GenerateDataKeyPairWithoutPlaintext),
  GenerateRandom: crypto(CRYPTO.GenerateRandom),
  Sign: crypto(CRYPTO.Sign),
  Verify: crypto(CRYPTO.Verify, {
    answer: (out) => {
      if (out.SignatureValid !== true) throw new AwsOutcome("KMSInvalidSignatureException", "the signature is not valid");
      return out;
    },
  }),
  GetPublicKey: crypto(CRYPTO.GetPublicKey, { answer: (out) => ({ ...out, CustomerMasterKeySpec: out.KeySpec }) }),
  GenerateMac: crypto(CRYPTO.GenerateMac),
  VerifyMac: crypto(CRYPTO.VerifyMac, {
    answer: (out) => {
      if (out.MacValid !== true) throw new AwsOutcome("KMSInvalidMacException", "the MAC is not valid");
      return out;
    },
  }),
  GetKeyPolicy: op(obj({ KeyId: KeyIdRef, PolicyName }), async (s, p, i) => ({ Policy: (await s.policies.get(p, i.KeyId)).policy, PolicyName: "default" })),
  PutKeyPolicy: op(obj({ KeyId: KeyIdRef, PolicyName, Policy: z.string().min(1).max(MAX_POLICY_CHARS), BypassPolicyLockoutSafetyCheck: z.boolean().optional() }), async (s, p, i) => (await s.policies.put(p, i.KeyId, i.Policy, i.BypassPolicyLockoutSafetyCheck), {})),
  ListKeyPolicies: op(obj({ KeyId: KeyIdRef, Limit, Marker }), async (s, p, i) => (await s.keys.describe(p, i.KeyId), { PolicyNames: ["default"], Truncated: false })),
  CreateGrant: op(
    obj({ KeyId: KeyIdRef, GranteePrincipal: GrantPrincipal, RetiringPrincipal: GrantPrincipal.optional(), Operations: z.array(z.enum(GRANT_OPERATIONS)).min(1), Constraints: Constraints.optional(), GrantTokens, Name: z.string().max(256).optional() }),
    async (s, p, i) => {
      const out = await s.grants.create(p, i.KeyId, {
        granteePrincipal: i.GranteePrincipal,
        retiringPrincipal: i.RetiringPrincipal,
        operations: i.Operations,
        constraints: i.Constraints ? { encryptionContextEquals: i.Constraints.EncryptionContextEquals, encryptionContextSubset: i.Constraints.EncryptionContextSubset } : undefined,
        name: i.Name,
      });
      return { GrantToken: out.grantToken, GrantId: out.grantId };
    },
  ),
  ListGrants: op(obj({ KeyId: KeyIdRef, Limit, Marker, GrantId: GrantId.optional(), GranteePrincipal: GrantPrincipal.optional() }), async (s, p, i) => {
    const key = await s.keys.describe(p, i.KeyId);
    const grants = (await s.grants.list(p, i.KeyId)).filter((g) => (!i.GrantId || g.grantId === i.GrantId) && (!i.GranteePrincipal || g.granteePrincipal === i.GranteePrincipal));
    const { items, truncated, next } = page(grants, i.Limit, i.Marker);
    return { Grants: items.map((g) => awsGrant(g, key.arn)), Truncated: truncated, ...(truncated ? { NextMarker: next } : {}) };
  }),
  RevokeGrant: op(obj({ KeyId: KeyIdRef, GrantId }), async (s, p, i) => (await s.grants.revoke(p, i.KeyId, i.GrantId), {})),
  RetireGrant: op(obj({ GrantToken: GrantToken.optional(), KeyId: KeyIdRef.optional(), GrantId: GrantId.optional() }), async (s, p, i) => {
    if (i.GrantToken) await s.grants.retire(p, { grantToken: i.GrantToken });
    else if (i.KeyId && i.GrantId) await s.grants.retire(p, { keyId: i.KeyId, grantId: i.GrantId });
    else throw new KmsError("ValidationException", "give GrantToken, or KeyId and GrantId");
    return {};
  }),
  ListRetirableGrants: op(obj({ RetiringPrincipal: GrantPrincipal, Limit, Marker }), async (s, p, i) => {
    const grants = await s.grants.listRetirable(p, i.RetiringPrincipal);
    const { items, truncated, next } = page(grants, i.Limit, i.Marker);
    return { Grants: items.map((g) => awsGrant(g, `arn:aws:kms:${s.directory.region}:${g.tenant}:key/${g.keyId}`)), Truncated: truncated, ...(truncated ? { NextMarker: next } : {}) };
  }),
  GetParametersForImport: op(obj({ KeyId: KeyIdRef, WrappingAlgorithm: z.literal("RSAES_OAEP_SHA_256"), WrappingKeySpec: z.enum(["RSA_2048", "RSA_3072", "RSA_4096"]) }), async (s, p, i, call) => {
    const out = await s.imports.parameters(p, i.KeyId, call);
    return { KeyId: out.key.arn, ImportToken: toB64(out.importToken), PublicKey: toB64(out.publicKey), ParametersValidTo: epochSeconds(out.parametersValidTo) };
  }),
  DeleteImportedKeyMaterial: op(obj({ KeyId: KeyIdRef }), async (s, p, i) => (await s.imports.deleteMaterial(p, i.KeyId), {})),
  ImportKeyMaterial: op(obj({ KeyId: KeyIdRef, ImportToken: Blob(16 * 1024), EncryptedKeyMaterial: Blob(1024), ExpirationModel: z.literal("KEY_MATERIAL_DOES_NOT_EXPIRE").optional() }), async (s, p, i, call) => {
    await s.imports.importMaterial(p, i.KeyId, i.ImportToken, i.EncryptedKeyMaterial, call);
    return {};
  }),
};
