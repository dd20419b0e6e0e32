import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import type { CallOpts } from "../../shared/hsm/port.js";
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
import { KeySpec, type KeyRecord } from "../keys/model.js";
import { CRYPTO_OPERATIONS as CRYPTO } from "../crypto-ops/operations.js";
import { fromContract, type AwsOperation, type CodecOptions } from "./codec.js";
import type { AnyOperation } from "../contract/operation.js";
import { KEY_OPERATIONS as KEY, type KeyServices } from "../keys/operations.js";
import { GRANT_MANAGEMENT as GRANT } from "../grants/operations.js";
import { POLICY_OPERATIONS as POLICY } from "../policy/operations.js";
import { GrantId, GrantPrincipal, KeyRef as KeyIdRef, MAX_POLICY_CHARS, RotationPeriodInDays } from "../contract/fields.js";
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
/** A key-management operation of the contract (keys/operations.ts), through the AWS codec; AWS answers most changes with nothing. */
const key = (operation: AnyOperation<KeyServices>, o?: CodecOptions) => fromContract(operation, (s: Services): KeyServices => s, o);
const nothing = () => ({});
const policy = (operation: AnyOperation<KeyPolicyService>, o?: CodecOptions) => fromContract(operation, (s: Services) => s.policies, o);
const grant = (operation: AnyOperation<GrantService>, o?: CodecOptions) => fromContract(operation, (s: Services) => s.grants, o);
const withoutPolicyName = ({ PolicyName: _default, ...rest }: Record<string, unknown>) => rest;
const renamedConstraints = (c: z.infer<typeof Constraints>) => ({
  ...(c.EncryptionContextEquals ? { encryptionContextEquals: c.EncryptionContextEquals } : {}),
  ...(c.EncryptionContextSubset ? { encryptionContextSubset: c.EncryptionContextSubset } : {}),
});
const tagMap = (tags: unknown) => (Array.isArray(tags) ? Object.fromEntries((tags as { TagKey: string; TagValue: string }[]).map((t) => [t.TagKey, t.TagValue])) : undefined);
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
  CreateKey: key(KEY.CreateKey, {
    omit: ["rotationPeriodDays", "expiresAt", "derived", "exportable", "wrappingKeyId"],
    fields: { Origin: z.enum(["AWS_KMS", "EXTERNAL"]).optional(), Tags: Tags.optional(), CustomerMasterKeySpec: KeySpec.optional(), MultiRegion: z.literal(false).optional() },
    decode: ({ Origin, Tags: tags, CustomerMasterKeySpec, MultiRegion: _single, ...rest }) => ({
      ...rest,
      KeySpec: rest.KeySpec ?? CustomerMasterKeySpec,
      Origin: Origin === "EXTERNAL" ? "EXTERNAL" : undefined,
      Tags: tagMap(tags),
    }),
    render: (created: KeyRecord) => ({ KeyMetadata: awsKeyMetadata(created) }),
  }),
  DescribeKey: key(KEY.DescribeKey, { render: (described: KeyRecord) => ({ KeyMetadata: awsKeyMetadata(described) }) }),
  UpdateKeyDescription: key(KEY.UpdateKeyDescription, { render: nothing }),
  EnableKey: key(KEY.EnableKey, { render: nothing }),
  DisableKey: key(KEY.DisableKey, { render: nothing }),
  ScheduleKeyDeletion: key(KEY.ScheduleKeyDeletion, {
    render: (k: KeyRecord, i) => ({ KeyId: k.arn, DeletionDate: epochSeconds(k.deletionDate), KeyState: k.state, PendingWindowInDays: i.pendingWindowInDays }),
  }),
  CancelKeyDeletion: key(KEY.CancelKeyDeletion, { render: (k: KeyRecord) => ({ KeyId: k.arn }) }),
  RotateKeyOnDemand: key(KEY.RotateKeyOnDemand, { render: (k: KeyRecord) => ({ KeyId: k.keyId }) }),
  TagResource: key(KEY.TagResource, { fields: { Tags }, decode: (i) => ({ ...i, Tags: tagMap(i.Tags) }), render: nothing }),
  UntagResource: key(KEY.UntagResource, { render: nothing }),
  CreateAlias: key(KEY.CreateAlias, { render: nothing }),
  UpdateAlias: key(KEY.UpdateAlias, { render: nothing }),
  DeleteAlias: key(KEY.DeleteAlias, { render: nothing }),
  GetParametersForImport: key(KEY.GetParametersForImport, {
    fields: { WrappingAlgorithm: z.literal("RSAES_OAEP_SHA_256"), WrappingKeySpec: z.enum(["RSA_2048", "RSA_3072", "RSA_4096"]) },
    decode: ({ WrappingAlgorithm: _alg, WrappingKeySpec: _spec, ...rest }) => rest,
    answer: (out) => ({ KeyId: out.KeyId, ImportToken: out.ImportToken, PublicKey: out.PublicKey, ParametersValidTo: epochSeconds(out.ParametersValidTo as string) }),
  }),
  ImportKeyMaterial: key(KEY.ImportKeyMaterial, {
    fields: { ExpirationModel: z.literal("KEY_MATERIAL_DOES_NOT_EXPIRE").optional() },
    decode: ({ ExpirationModel: _model, ...rest }) => rest,
    render: nothing,
  }),
  DeleteImportedKeyMaterial: key(KEY.DeleteImportedKeyMaterial, { render: nothing }),
  GetKeyPolicy: policy(POLICY.GetKeyPolicy, { fields: { PolicyName }, decode: withoutPolicyName, render: (r: { policy: string }) => ({ Policy: r.policy, PolicyName: "default" }) }),
  PutKeyPolicy: policy(POLICY.PutKeyPolicy, { fields: { PolicyName, Policy: z.string().min(1).max(MAX_POLICY_CHARS) }, decode: withoutPolicyName, render: nothing }),
  CreateGrant: grant(GRANT.CreateGrant, {
    fields: { Constraints: Constraints.optional() },
    decode: ({ Constraints: c, ...rest }) => ({ ...rest, Constraints: c ? renamedConstraints(c as z.infer<typeof Constraints>) : undefined }),
  }),
  RevokeGrant: grant(GRANT.RevokeGrant, { render: nothing }),
  RetireGrant: grant(GRANT.RetireGrant, { render: nothing }),
  ListKeys: op(obj({ Limit, Marker }), async (s, p, i) => {
    const out = await s.keys.list(p, i.Limit ?? 100, i.Marker);
    return { Keys: out.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: out.cursor !== undefined, ...(out.cursor ? { NextMarker: out.cursor } : {}) };
  }),
  ListAliases: op(obj({ KeyId: KeyIdRef.optional(), Limit, Marker }), async (s, p, i) => {
    const all = await s.aliases.list(p, i.KeyId);
    const { items, truncated, next } = page(all, i.Limit, i.Marker);
    return {
      Aliases: items.map((a) => ({ AliasName: a.aliasName, AliasArn: `arn:aws:kms:${s.directory.region}:${a.tenant}:${a.aliasName}`, TargetKeyId: a.keyId, CreationDate: epochSeconds(a.createdAt), LastUpdatedDate: epochSeconds(a.updatedAt ?? a.createdAt) })),
      Truncated: truncated,
      ...(truncated ? { NextMarker: next } : {}),
    };
  }),
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
  ListKeyPolicies: op(obj({ KeyId: KeyIdRef, Limit, Marker }), async (s, p, i) => (await s.keys.describe(p, i.KeyId), { PolicyNames: ["default"], Truncated: false })),
  ListGrants: op(obj({ KeyId: KeyIdRef, Limit, Marker, GrantId: GrantId.optional(), GranteePrincipal: GrantPrincipal.optional() }), async (s, p, i) => {
    const key = await s.keys.describe(p, i.KeyId);
    const grants = (await s.grants.list(p, i.KeyId)).filter((g) => (!i.GrantId || g.grantId === i.GrantId) && (!i.GranteePrincipal || g.granteePrincipal === i.GranteePrincipal));
    const { items, truncated, next } = page(grants, i.Limit, i.Marker);
    return { Grants: items.map((g) => awsGrant(g, key.arn)), Truncated: truncated, ...(truncated ? { NextMarker: next } : {}) };
  }),
  ListRetirableGrants: op(obj({ RetiringPrincipal: GrantPrincipal, Limit, Marker }), async (s, p, i) => {
    const grants = await s.grants.listRetirable(p, i.RetiringPrincipal);
    const { items, truncated, next } = page(grants, i.Limit, i.Marker);
    return { Grants: items.map((g) => awsGrant(g, `arn:aws:kms:${s.directory.region}:${g.tenant}:key/${g.keyId}`)), Truncated: truncated, ...(truncated ? { NextMarker: next } : {}) };
  }),
};
