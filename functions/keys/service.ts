import { randomUUID } from "node:crypto";
import pMap from "p-map";
import { KmsError } from "../../shared/errors.js";
import { wrapBinding } from "../../shared/crypto/envelope.js";
import { hsmKeyId, parseHsmKeyId, type CallOpts, type HsmKeySpec, type KeyWrapping, type ResidentKeys, type WrapOpts, type WrappedKey } from "../../shared/hsm/port.js";
import { wrappedToWire } from "../../shared/protocol/codec.js";
import type { Principal } from "../identity/principal.js";
import type { Authorizer } from "../policy/authorizer.js";
import { checkNewPolicy } from "../policy/lockout.js";
import type { KeyDirectory } from "./directory.js";
import { newKeyPair } from "./key-pairs.js";
import { assertUsable, inTenant, keyArn, wrappingKeyOf, type KeyPolicyVersion, type KeyRecord, type KeySpec, type KeyUsage } from "./model.js";
import { KEY_SPECS, usageFor } from "./specs.js";
import type { KeyStore, KeyUsageRecord, Page } from "./store.js";
import type { UsageRecorder } from "./usage.js";

export type KeyFilter = {
  state?: string | undefined;
  keySpec?: string | undefined;
  tag?: [string, string] | undefined;
  alias?: string | undefined;
  /** Only keys whose policy lets the caller DescribeKey (a listing that shows metadata); AWS's ListKeys shows every key's id. */
  describable?: boolean | undefined;
  /** Only HSM-resident keys of this slot, not yet destroyed. */
  hsmSlot?: string | undefined;
};
/** Policy decisions a listing makes at once (each may read a policy). */
const LIST_DECISIONS_AT_ONCE = 16;

export type CreateKeyInput = {
  description?: string | undefined;
  keySpec?: KeySpec | undefined;
  keyUsage?: KeyUsage | undefined;
  tags?: Record<string, string> | undefined;
  rotationPeriodDays?: number | undefined;
  expiresAt?: string | undefined;
  derived?: boolean | undefined;
  exportable?: boolean | undefined;
  /** EXTERNAL: the key waits (PendingImport) for the customer's own material. */
  origin?: "TETHER" | "EXTERNAL" | undefined;
  /** `hsm::<slot>::<label>`: an HSM-resident AES key of the tenant's that wraps this key instead of the root key. */
  wrappingKeyId?: string | undefined;
  /** The key's first policy (JSON text); absent: the default policy. */
  policy?: string | undefined;
  bypassPolicyLockoutSafetyCheck?: boolean | undefined;
};

export type CreateHsmKeyInput = Pick<CreateKeyInput, "keyUsage" | "description" | "tags" | "policy" | "bypassPolicyLockoutSafetyCheck"> & {
  slot: string;
  label: string;
  keySpec: HsmKeySpec;
  sensitive: boolean;
};

const DAY_MS = 86_400_000;

/**
 * Keys as a tenant sees them: created (of Tether's material, awaiting imported material, or
 * resident in the HSM), described, listed, described anew (description, tags), and their usage.
 * Their life after creation is KeyLifecycle's; finding and authorizing them is KeyDirectory's.
 */
export class KeyService {
  constructor(
    private readonly directory: KeyDirectory,
    private readonly store: KeyStore,
    private readonly wrapping: KeyWrapping,
    private readonly resident: ResidentKeys,
    private readonly authorizer: Authorizer,
    private readonly usageRecorder: UsageRecorder,
  ) {}

  async create(principal: Principal, input: CreateKeyInput, call: CallOpts): Promise<KeyRecord> {
    await this.authorizer.authorize(principal, "kms:CreateKey", { tenant: principal.tenant });
    const spec = input.keySpec ?? "SYMMETRIC_DEFAULT";
    const usage = usageFor(spec, input.keyUsage);
    if (input.rotationPeriodDays && spec !== "SYMMETRIC_DEFAULT") throw new KmsError("UnsupportedOperationException", "only symmetric keys rotate");
    if (input.derived && spec !== "SYMMETRIC_DEFAULT") throw new KmsError("ValidationException", "only symmetric keys can be derived");
    if (input.expiresAt && Date.parse(input.expiresAt) <= this.directory.now()) throw new KmsError("ValidationException", "expiresAt must be in the future");
    const external = input.origin === "EXTERNAL";
    if (external && (spec !== "SYMMETRIC_DEFAULT" || input.rotationPeriodDays)) throw new KmsError("UnsupportedOperationException", "imported material is for symmetric keys without automatic rotation");
    const keyId = randomUUID();
    const draft = this.newRecord(principal, keyId, input, { spec, usage, origin: external ? "EXTERNAL" : "TETHER", state: external ? "PendingImport" : "Enabled" });
    if (input.wrappingKeyId) await this.wrapperFor(principal, input.wrappingKeyId);
    const wrappingKey = wrappingKeyOf(principal.tenant, input.wrappingKeyId);
    const material = external ? undefined : await this.newMaterial(spec, wrapBinding(principal.tenant, keyId, 1), { ...call, wrappingKey });
    const created = Date.parse(draft.key.createdAt);
    const key: KeyRecord = {
      ...draft.key,
      ...(input.rotationPeriodDays ? { rotationPeriodDays: input.rotationPeriodDays, nextRotationAt: new Date(created + input.rotationPeriodDays * DAY_MS).toISOString() } : {}),
      ...(material?.publicKey ? { publicKey: material.publicKey } : {}),
      ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
      ...(input.derived ? { derived: true } : {}),
      ...(input.exportable ? { exportable: true } : {}),
      ...(input.wrappingKeyId ? { wrappingKeyId: input.wrappingKeyId } : {}),
    };
    await this.store.create(key, material ? { version: 1, createdAt: key.createdAt, wrapped: wrappedToWire(material.wrapped) } : undefined, draft.policy);
    return key;
  }

  /** A new key's record (its common fields) and its first policy (none: the default), once the policy passes the lockout check. */
  private newRecord(
    principal: Principal,
    keyId: string,
    input: Pick<CreateKeyInput, "description" | "tags" | "policy" | "bypassPolicyLockoutSafetyCheck">,
    kind: Pick<KeyRecord, "spec" | "usage" | "origin" | "state">,
  ): { key: KeyRecord; policy?: KeyPolicyVersion } {
    const arn = keyArn(this.directory.region, principal.tenant, keyId);
    if (input.policy !== undefined) checkNewPolicy(input.policy, principal, { arn, tags: input.tags ?? {} }, input.bypassPolicyLockoutSafetyCheck ?? false);
    const createdAt = new Date(this.directory.now()).toISOString();
    const key: KeyRecord = {
      tenant: principal.tenant,
      keyId,
      arn,
      description: input.description ?? "",
      ...kind,
      createdAt,
      primaryVersion: 1,
      wrapEpoch: 0,
      tags: input.tags ?? {},
      ...(input.policy !== undefined ? { policyVersion: 1 } : {}),
      revision: 0,
    };
    return input.policy !== undefined ? { key, policy: { version: 1, policy: input.policy, createdAt, createdBy: principal.principalId } } : { key };
  }

  /**
   * An HSM-resident key (`hsm::<slot>::<label>`): created in the HSM (as `<tenant>.<label>`), then
   * recorded as a KMS key of origin HSM — described, governed by its key policy and grants,
   * scheduled for deletion like any other. If the record cannot be written, the HSM object goes.
   */
  async createHsmKey(principal: Principal, input: CreateHsmKeyInput, call: CallOpts): Promise<KeyRecord> {
    await this.authorizer.authorize(principal, "kms:CreateKey", { tenant: principal.tenant });
    const keyId = hsmKeyId({ slot: input.slot, label: input.label });
    const spec: KeySpec = input.keySpec === "AES_256" ? "SYMMETRIC_DEFAULT" : input.keySpec;
    const usage = usageFor(spec, input.keyUsage, input.keySpec);
    const draft = this.newRecord(principal, keyId, input, { spec, usage, origin: "HSM", state: "Enabled" });
    if (await this.store.get(principal.tenant, keyId)) throw new KmsError("AlreadyExistsException", `an HSM key ${keyId} exists`);
    const hsm = { slot: input.slot, label: input.label, spec: input.keySpec, sensitive: input.sensitive };
    await this.resident.createKey(inTenant(principal.tenant, hsm), input.keySpec, { sensitive: input.sensitive }, call);
    const key: KeyRecord = { ...draft.key, hsm };
    try {
      await this.store.create(key, undefined, draft.policy);
    } catch (err) {
      await this.resident.destroyKey(inTenant(principal.tenant, hsm), call).catch(() => undefined);
      throw err;
    }
    return this.directory.remember(key);
  }

  /** A wrapping key for a new KMS key: an Enabled AES HSM-resident key of the tenant the caller may encrypt with. */
  private async wrapperFor(principal: Principal, wrappingKeyId: string): Promise<KeyRecord> {
    if (!parseHsmKeyId(wrappingKeyId)) throw new KmsError("ValidationException", "wrappingKeyId is an HSM key id, hsm::<slot>::<label>");
    const wrapper = await this.directory.authorized(principal, wrappingKeyId, "kms:Encrypt");
    if (wrapper.hsm?.spec !== "AES_256") throw new KmsError("ValidationException", `${wrappingKeyId} is not an AES HSM-resident key`);
    assertUsable(wrapper);
    return wrapper;
  }

    /**
   * Material for a new key version, generated and wrapped without ever being stored in clear:
   * symmetric and HMAC keys come from the HSM's RNG, wrapped inside the connector; key pairs are
   * generated here and their private half sealed to the connector for wrapping at once.
   */
  private async newMaterial(spec: KeySpec, binding: Uint8Array, call: WrapOpts): Promise<{ wrapped: WrappedKey; publicKey?: string }> {
    const { material } = KEY_SPECS[spec];
    if ("bytes" in material) return this.wrapping.generateDataKey(material.bytes, binding, { ...call, returnPlaintext: false });
    const pair = await newKeyPair(material.pair);
    try {
      const wrapped = await this.wrapping.wrap(new Uint8Array(pair.privateKey), binding, call);
      return { wrapped, publicKey: pair.publicKey.toString("base64") };
    } finally {
      pair.privateKey.fill(0);
    }
  }

  async describe(principal: Principal, keyId: string): Promise<KeyRecord> {
    return this.directory.authorized(principal, keyId, "kms:DescribeKey");
  }

  /** A page of the tenant's keys (one read of at most `limit`), filtered (so a page may come back short). */
  async list(principal: Principal, limit: number, cursor?: string, filter: KeyFilter = {}): Promise<Page<KeyRecord>> {
    await this.authorizer.authorize(principal, "kms:ListKeys", { tenant: principal.tenant });
    const page = await this.store.list(principal.tenant, limit, cursor);
    const aliased = filter.alias ? await this.directory.resolve(principal.tenant, filter.alias).catch(() => "") : undefined;
    const keep = (k: KeyRecord) =>
      (aliased === undefined || k.keyId === aliased) &&
      (!filter.state || k.state === filter.state) &&
      (!filter.keySpec || k.spec === filter.keySpec) &&
      (!filter.tag || k.tags[filter.tag[0]] === filter.tag[1]) &&
      (filter.hsmSlot === undefined || (k.hsm?.slot === filter.hsmSlot && k.state !== "Destroyed"));
    const describable = async (k: KeyRecord) => !filter.describable || (await this.authorizer.decideKey({ principal, action: "kms:DescribeKey", key: k })).allowed;
    const decided = await pMap(page.items, async (k) => (keep(k) && (await describable(k)) ? k : undefined), { concurrency: LIST_DECISIONS_AT_ONCE });
    return { ...page, items: decided.filter((k): k is KeyRecord => k !== undefined) };
  }

  updateDescription(principal: Principal, keyId: string, description: string): Promise<KeyRecord> {
    return this.directory.update(principal, keyId, "kms:UpdateKeyDescription", {}, (k) => ({ ...k, description }));
  }

  tag(principal: Principal, keyId: string, tags: Record<string, string>): Promise<KeyRecord> {
    return this.directory.update(principal, keyId, "kms:TagResource", { requestTags: tags }, (k) => {
      const next = { ...k.tags, ...tags };
      if (Object.keys(next).length > 50) throw new KmsError("LimitExceededException", "a key has at most 50 tags");
      return { ...k, tags: next };
    });
  }

  untag(principal: Principal, keyId: string, tagKeys: string[]): Promise<KeyRecord> {
    return this.directory.update(principal, keyId, "kms:UntagResource", { tagKeys }, (k) => ({ ...k, tags: Object.fromEntries(Object.entries(k.tags).filter(([t]) => !tagKeys.includes(t))) }));
  }

  /** Operations by kind and the last use, counted without a database write per request. */
  async usage(principal: Principal, keyId: string): Promise<KeyUsageRecord> {
    const key = await this.directory.authorized(principal, keyId, "kms:DescribeKey");
    return this.usageRecorder.usage(key.tenant, key.keyId);
  }
}
