import { createHmac, randomUUID } from "node:crypto";
import type { LRUCache } from "lru-cache";
import { boundedLru } from "../lru.js";
import { isKmsError, KmsError } from "../../shared/errors.js";
import { wrapBinding } from "../../shared/crypto/envelope.js";
import { hsmKeyId, parseHsmKeyId, type CallOpts, type HsmKeyRef, type HsmKeySpec, type HsmPort, type WrapOpts, type WrappedKey } from "../../shared/hsm/port.js";
import { inTenant } from "../hsm-keys/labels.js";
import type { Principal } from "../identity/principal.js";
import type { Authorizer, Decision, KeyAccess, KeyAction } from "../policy/authorizer.js";
import type { EncryptionContext } from "../../shared/crypto/envelope.js";
import { KEY_SPECS, usageFor } from "./specs.js";
import { assertUsable, dueFor, invalidState, keyArn, nextState, type KeyPolicyVersion, type KeyRecord, type KeySpec, type KeyUsage, type KeyVersion, type RotationType } from "./model.js";
import { wrappedToWire } from "../../shared/protocol/codec.js";
import type { AliasRecord, KeyStore, KeyUsageRecord, Page } from "./store.js";
import { newImportParameters, openImportedMaterial } from "./import.js";
import { newKeyPair } from "./key-pairs.js";
import { UsageRecorder } from "./usage.js";
import pMap from "p-map";
import { checkNewPolicy } from "../policy/lockout.js";
import type { SystemChanges } from "../audit/system-changes.js";

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
const ALIAS_NAME = /^alias\/[A-Za-z0-9/_-]{1,250}$/;

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

export type KeyServiceOptions = {
  region: string;
  metadataTtlMs: number;
  maxCachedKeys: number;
  /** Where changes Tether makes by itself (destruction after the window, automatic rotation) are recorded first. */
  changes: Pick<SystemChanges, "record">;
  usageFlushMs?: number;
  now?: () => number;
};

const DAY_MS = 86_400_000;
const notFound = (keyId: string) => new KmsError("NotFoundException", `key ${keyId} does not exist`);

/** The HSM key that wraps a key's versions, as the HSM names it (tenant-scoped), or undefined for the root key. */
function wrappingKeyOf(tenant: string, wrappingKeyId: string | undefined): HsmKeyRef | undefined {
  if (!wrappingKeyId) return undefined;
  const ref = parseHsmKeyId(wrappingKeyId);
  if (!ref) throw new KmsError("ValidationException", "wrappingKeyId is an HSM key id, hsm::<slot>::<label>");
  return inTenant(tenant, ref);
}

/**
 * The key lifecycle: create, describe, list, enable/disable, scheduled deletion and its
 * cancellation, destruction (crypto-shredding) once the window has passed, and rotation (on
 * demand, and automatic: applied lazily when a due key is used). Metadata is cached for at most
 * `metadataTtlMs`, so a Disable or a deletion takes effect everywhere within that bound.
 */
export class KeyService {
  private readonly metadata: LRUCache<string, KeyRecord>;
  private readonly aliases: LRUCache<string, string>;
  private readonly now: () => number;
  readonly usageRecorder: UsageRecorder;

  constructor(
    private readonly store: KeyStore,
    private readonly hsm: HsmPort,
    private readonly authorizer: Authorizer,
    private readonly opts: KeyServiceOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.usageRecorder = new UsageRecorder(store, opts.usageFlushMs, this.now);
    // A TTL of 0 turns the metadata cache off (lru-cache would read 0 as "never expires").
    this.metadata = boundedLru({ max: opts.maxCachedKeys, ttl: Math.max(1, opts.metadataTtlMs), ttlResolution: 0, perf: { now: this.now } });
    this.aliases = boundedLru({ max: opts.maxCachedKeys, ttl: Math.max(1, opts.metadataTtlMs), ttlResolution: 0, perf: { now: this.now } });
  }

  /** The region key and alias ARNs name. */
  get region(): string {
    return this.opts.region;
  }

  async create(principal: Principal, input: CreateKeyInput, call: CallOpts): Promise<KeyRecord> {
    await this.authorizer.authorize(principal, "kms:CreateKey", { tenant: principal.tenant });
    const spec = input.keySpec ?? "SYMMETRIC_DEFAULT";
    const usage = usageFor(spec, input.keyUsage);
    if (input.rotationPeriodDays && spec !== "SYMMETRIC_DEFAULT") throw new KmsError("UnsupportedOperationException", "only symmetric keys rotate");
    if (input.derived && spec !== "SYMMETRIC_DEFAULT") throw new KmsError("ValidationException", "only symmetric keys can be derived");
    if (input.expiresAt && Date.parse(input.expiresAt) <= this.now()) throw new KmsError("ValidationException", "expiresAt must be in the future");
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
    const arn = keyArn(this.opts.region, principal.tenant, keyId);
    if (input.policy !== undefined) checkNewPolicy(input.policy, principal, { arn, tags: input.tags ?? {} }, input.bypassPolicyLockoutSafetyCheck ?? false);
    const createdAt = new Date(this.now()).toISOString();
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
    await this.hsm.createKey(inTenant(principal.tenant, hsm), input.keySpec, { sensitive: input.sensitive }, call);
    const key: KeyRecord = { ...draft.key, hsm };
    try {
      await this.store.create(key, undefined, draft.policy);
    } catch (err) {
      await this.hsm.destroyKey(inTenant(principal.tenant, hsm), call).catch(() => undefined);
      throw err;
    }
    return this.remember(key);
  }

  /**
   * The HSM-resident key that wraps a KMS key, as it is now (cached ≤ the metadata TTL): a KMS key
   * wrapped by one that is no longer Enabled cannot be used (see KeyMaterial).
   */
  async wrapperOf(key: KeyRecord): Promise<KeyRecord | undefined> {
    if (!key.wrappingKeyId) return undefined;
    return this.cached(key.tenant, key.wrappingKeyId).catch((err: unknown) => {
      throw isKmsError(err, "NotFoundException") ? new KmsError("KMSInvalidStateException", `key ${key.keyId}'s wrapping key ${key.wrappingKeyId} no longer exists`) : err;
    });
  }

  /** A wrapping key for a new KMS key: an Enabled AES HSM-resident key of the tenant the caller may encrypt with. */
  private async wrapperFor(principal: Principal, wrappingKeyId: string): Promise<KeyRecord> {
    if (!parseHsmKeyId(wrappingKeyId)) throw new KmsError("ValidationException", "wrappingKeyId is an HSM key id, hsm::<slot>::<label>");
    const wrapper = await this.authorized(principal, wrappingKeyId, "kms:Encrypt");
    if (wrapper.hsm?.spec !== "AES_256") throw new KmsError("ValidationException", `${wrappingKeyId} is not an AES HSM-resident key`);
    assertUsable(wrapper);
    return wrapper;
  }

  /** A wrapping public key and an import token for a key awaiting imported material (BYOK). */
  async importParameters(principal: Principal, keyId: string, call: CallOpts) {
    const key = await this.authorized(principal, keyId, "kms:GetParametersForImport");
    if (key.origin !== "EXTERNAL" || key.state !== "PendingImport") throw invalidState(key);
    return { key, ...(await newImportParameters(this.hsm, key.tenant, key.keyId, this.now(), call)) };
  }

  /**
   * Imports the customer's 256-bit key material, wrapped by the HSM like any other; the key
   * becomes Enabled. After DeleteImportedKeyMaterial, only the same material is accepted again.
   */
  async importMaterial(principal: Principal, keyId: string, importToken: Uint8Array, encryptedMaterial: Uint8Array, call: CallOpts): Promise<KeyRecord> {
    const key = await this.authorized(principal, keyId, "kms:ImportKeyMaterial");
    if (key.origin !== "EXTERNAL" || key.state !== "PendingImport") throw invalidState(key);
    const material = await openImportedMaterial(this.hsm, key.tenant, key.keyId, importToken, encryptedMaterial, this.now(), call);
    try {
      if (material.length !== 32) throw new KmsError("ValidationException", "imported key material must be 256 bits");
      const check = materialCheck(material);
      if (key.materialCheck && key.materialCheck !== check) throw new KmsError("IncorrectKeyMaterialException", `key ${key.keyId} was imported with other material; only the same material can be imported again`);
      const wrapped = await this.hsm.wrap(material, wrapBinding(key.tenant, key.keyId, 1), { ...call, wrappingKey: wrappingKeyOf(key.tenant, key.wrappingKeyId) });
      const next: KeyRecord = { ...key, state: "Enabled", materialCheck: check, revision: key.revision + 1 };
      const version = { version: 1, createdAt: new Date(this.now()).toISOString(), wrapped: wrappedToWire(wrapped) };
      if (!(await (key.materialCheck ? this.store.restoreMaterial(next, version) : this.store.addVersion(next, version)))) {
        throw new KmsError("KMSInvalidStateException", `key ${key.keyId} changed during the import; retry`);
      }
      return this.remember(next);
    } finally {
      material.fill(0);
    }
  }

  /** Deletes imported material at once (AWS's DeleteImportedKeyMaterial): the key waits for the same material again (PendingImport). */
  async deleteImportedMaterial(principal: Principal, keyId: string): Promise<KeyRecord> {
    const key = await this.authorized(principal, keyId, "kms:DeleteImportedKeyMaterial");
    if (key.origin !== "EXTERNAL") throw new KmsError("UnsupportedOperationException", `key ${key.keyId} does not have imported material`);
    if (key.state !== "Enabled" && key.state !== "Disabled") throw invalidState(key);
    // A new wrap epoch makes any instance's cached material for this key stale.
    const next: KeyRecord = { ...key, state: "PendingImport", wrapEpoch: key.wrapEpoch + 1, revision: key.revision + 1 };
    if (!(await this.store.shred(next))) throw new KmsError("ThrottlingException", `key ${key.keyId} changed meanwhile; retry`);
    return this.remember(next);
  }

  /**
   * Material for a new key version, generated and wrapped without ever being stored in clear:
   * symmetric and HMAC keys come from the HSM's RNG, wrapped inside the connector; key pairs are
   * generated here and their private half sealed to the connector for wrapping at once.
   */
  private async newMaterial(spec: KeySpec, binding: Uint8Array, call: WrapOpts): Promise<{ wrapped: WrappedKey; publicKey?: string }> {
    const { material } = KEY_SPECS[spec];
    if ("bytes" in material) return this.hsm.generateDataKey(material.bytes, binding, { ...call, returnPlaintext: false });
    const pair = await newKeyPair(material.pair);
    try {
      const wrapped = await this.hsm.wrap(new Uint8Array(pair.privateKey), binding, call);
      return { wrapped, publicKey: pair.publicKey.toString("base64") };
    } finally {
      pair.privateKey.fill(0);
    }
  }

  async describe(principal: Principal, keyId: string): Promise<KeyRecord> {
    return this.authorized(principal, keyId, "kms:DescribeKey");
  }

  /** A page of the tenant's keys (one read of at most `limit`), filtered (so a page may come back short). */
  async list(principal: Principal, limit: number, cursor?: string, filter: KeyFilter = {}): Promise<Page<KeyRecord>> {
    await this.authorizer.authorize(principal, "kms:ListKeys", { tenant: principal.tenant });
    const page = await this.store.list(principal.tenant, limit, cursor);
    const aliased = filter.alias ? await this.resolve(principal.tenant, filter.alias).catch(() => "") : undefined;
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
    return this.transition(principal, keyId, "kms:UpdateKeyDescription", {}, (k) => ({ ...k, description }));
  }

  tag(principal: Principal, keyId: string, tags: Record<string, string>): Promise<KeyRecord> {
    return this.transition(principal, keyId, "kms:TagResource", { requestTags: tags }, (k) => {
      const next = { ...k.tags, ...tags };
      if (Object.keys(next).length > 50) throw new KmsError("LimitExceededException", "a key has at most 50 tags");
      return { ...k, tags: next };
    });
  }

  untag(principal: Principal, keyId: string, tagKeys: string[]): Promise<KeyRecord> {
    return this.transition(principal, keyId, "kms:UntagResource", { tagKeys }, (k) => ({ ...k, tags: Object.fromEntries(Object.entries(k.tags).filter(([t]) => !tagKeys.includes(t))) }));
  }

  async createAlias(principal: Principal, aliasName: string, targetKeyId: string): Promise<AliasRecord> {
    checkAliasName(aliasName);
    const key = await this.authorized(principal, targetKeyId, "kms:CreateAlias");
    const alias: AliasRecord = { tenant: principal.tenant, aliasName, keyId: key.keyId, createdAt: new Date(this.now()).toISOString() };
    await this.store.createAlias(alias);
    return alias;
  }

  /** As AWS: kms:UpdateAlias on the key the alias names now AND on the new key; the write happens only if the alias still names the key checked. */
  async updateAlias(principal: Principal, aliasName: string, targetKeyId: string): Promise<AliasRecord> {
    const current = await this.existingAlias(principal, aliasName);
    await this.authorized(principal, current.keyId, "kms:UpdateAlias");
    const key = await this.authorized(principal, targetKeyId, "kms:UpdateAlias");
    const alias: AliasRecord = { ...current, keyId: key.keyId, updatedAt: new Date(this.now()).toISOString() };
    await this.store.updateAlias(alias, current.keyId);
    this.aliases.delete(`${principal.tenant}/${aliasName}`);
    return alias;
  }

  /** As AWS: kms:DeleteAlias on the key the alias names. */
  async deleteAlias(principal: Principal, aliasName: string): Promise<void> {
    const current = await this.existingAlias(principal, aliasName);
    await this.authorized(principal, current.keyId, "kms:DeleteAlias");
    await this.store.deleteAlias(principal.tenant, aliasName, current.keyId);
    this.aliases.delete(`${principal.tenant}/${aliasName}`);
  }

  private async existingAlias(principal: Principal, aliasName: string): Promise<AliasRecord> {
    checkAliasName(aliasName);
    const alias = await this.store.getAlias(principal.tenant, aliasName);
    if (!alias) throw new KmsError("NotFoundException", `alias ${aliasName} does not exist`);
    return alias;
  }

  async listAliases(principal: Principal, keyId?: string): Promise<AliasRecord[]> {
    await this.authorizer.authorize(principal, "kms:ListAliases", { tenant: principal.tenant });
    const all = await this.store.listAliases(principal.tenant);
    if (!keyId) return all;
    const target = await this.resolve(principal.tenant, keyId);
    return all.filter((a) => a.keyId === target);
  }

  enable(principal: Principal, keyId: string): Promise<KeyRecord> {
    return this.transition(principal, keyId, "kms:EnableKey", {}, (k) => ({ ...k, state: nextState(k, "EnableKey") }));
  }

  disable(principal: Principal, keyId: string): Promise<KeyRecord> {
    return this.transition(principal, keyId, "kms:DisableKey", {}, (k) => ({ ...k, state: nextState(k, "DisableKey") }));
  }

  scheduleDeletion(principal: Principal, keyId: string, pendingWindowInDays: number): Promise<KeyRecord> {
    if (!Number.isInteger(pendingWindowInDays) || pendingWindowInDays < 7 || pendingWindowInDays > 30) {
      throw new KmsError("ValidationException", "pendingWindowInDays must be between 7 and 30");
    }
    return this.transition(principal, keyId, "kms:ScheduleKeyDeletion", {}, (k) => ({
      ...k,
      state: nextState(k, "ScheduleKeyDeletion"),
      deletionDate: new Date(this.now() + pendingWindowInDays * DAY_MS).toISOString(),
    }));
  }

  /** As in AWS KMS, a cancelled deletion leaves the key Disabled. */
  cancelDeletion(principal: Principal, keyId: string): Promise<KeyRecord> {
    return this.transition(principal, keyId, "kms:CancelKeyDeletion", {}, (k) => {
      const state = nextState(k, "CancelKeyDeletion");
      const { deletionDate: _gone, ...rest } = k;
      return { ...rest, state };
    });
  }

  /** Turns automatic rotation on (every `periodDays`, 90–2560) or off (`undefined`); symmetric keys of Tether's own material only. */
  setAutomaticRotation(principal: Principal, keyId: string, periodDays: number | undefined): Promise<KeyRecord> {
    if (periodDays !== undefined && (!Number.isInteger(periodDays) || periodDays < 90 || periodDays > 2560)) throw new KmsError("ValidationException", "RotationPeriodInDays must be 90 to 2560");
    return this.transition(principal, keyId, periodDays ? "kms:EnableKeyRotation" : "kms:DisableKeyRotation", {}, (k) => {
      if (k.spec !== "SYMMETRIC_DEFAULT" || k.origin !== "TETHER") throw new KmsError("UnsupportedOperationException", `key ${k.keyId} does not rotate automatically (${k.spec}, ${k.origin})`);
      if (k.state !== "Enabled" && k.state !== "Disabled") throw invalidState(k);
      const { rotationPeriodDays: _p, nextRotationAt: _n, ...rest } = k;
      return periodDays ? { ...rest, rotationPeriodDays: periodDays, nextRotationAt: new Date(this.now() + periodDays * DAY_MS).toISOString() } : rest;
    });
  }

  /** A new primary version; concurrent rotations each add their own (none is lost). */
  async rotate(principal: Principal, keyId: string, call: CallOpts): Promise<KeyRecord> {
    await this.authorized(principal, keyId, "kms:RotateKeyOnDemand");
    return this.addVersion(principal.tenant, keyId, call, "ON_DEMAND");
  }

  async listVersions(principal: Principal, keyId: string): Promise<KeyVersion[]> {
    const key = await this.authorized(principal, keyId, "kms:ListKeyRotations");
    return (await this.store.listVersions(key.tenant, key.keyId)).map(({ wrapped: _hidden, ...v }) => v);
  }

  /**
   * The key for a cryptographic operation, authorized, from the metadata cache (≤ TTL old).
   * Applies lazily what is due: destruction after the deletion window, automatic rotation.
   */
  async forUse(principal: Principal, keyId: string, action: KeyAction, call: CallOpts, encryptionContext?: EncryptionContext): Promise<KeyRecord> {
    let key = await this.cached(principal.tenant, keyId);
    principal.keysUsed?.add(key.keyId);
    await this.authorizer.authorizeKey({ principal, action, key, encryptionContext });
    key = (await this.applyDue(key, call)).key;
    this.usageRecorder.record(key.tenant, key.keyId, action.slice(4));
    return key;
  }

  /** Operations by kind and the last use, counted without a database write per request. */
  async usage(principal: Principal, keyId: string): Promise<KeyUsageRecord> {
    const key = await this.authorized(principal, keyId, "kms:DescribeKey");
    return this.usageRecorder.usage(key.tenant, key.keyId);
  }

  /**
   * What is due for the tenant's keys: destruction after the deletion window, automatic rotation.
   * `dead` lists every destroyed key seen (now or before), whose grants can go.
   */
  async sweep(tenant: string, call: CallOpts): Promise<{ destroyed: string[]; rotated: string[]; dead: string[] }> {
    const destroyed: string[] = [];
    const rotated: string[] = [];
    const dead: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.list(tenant, 100, cursor);
      for (const k of page.items) {
        const { key, done } = await this.applyDue(k, call);
        if (done === "rotate") rotated.push(k.keyId);
        if (done === "destroy") destroyed.push(k.keyId);
        if (key.state === "Destroyed") dead.push(k.keyId);
      }
      cursor = page.cursor;
    } while (cursor);
    return { destroyed, rotated, dead };
  }

  /** Does what `dueFor` says is due for the key now; returns the key as it then is. */
  private async applyDue(key: KeyRecord, call: CallOpts): Promise<{ key: KeyRecord; done?: "destroy" | "rotate" }> {
    const due = dueFor(key, this.now());
    if (due === "destroy") return { key: await this.destroyDue(key, call), done: due };
    if (due === "rotate") return { key: await this.rotateDue(key, call), done: due };
    return { key };
  }

  /** Destruction after the deletion window, recorded as Tether's own change. */
  private destroyDue(key: KeyRecord, call: CallOpts): Promise<KeyRecord> {
    return this.opts.changes.record({ tenant: key.tenant, action: "kms:DeleteKey", keyId: key.keyId, requestId: call.requestId }, () => this.destroy(key, call));
  }

  /** Automatic rotation (its period came, or its version's encryption budget ran out), recorded as Tether's own change. */
  private rotateDue(key: KeyRecord, call: CallOpts): Promise<KeyRecord> {
    return this.opts.changes.record({ tenant: key.tenant, action: "kms:RotateKey", keyId: key.keyId, requestId: call.requestId }, () =>
      this.addVersion(key.tenant, key.keyId, call, "AUTOMATIC", key.primaryVersion),
    );
  }

  /**
   * Crypto-shredding: the key's record says Destroyed and its wrapped material is gone. An
   * HSM-resident key's object is destroyed in the HSM first (one already gone is fine), so a
   * failure leaves it PendingDeletion, to be destroyed by the next use or sweep.
   */
  private async destroy(key: KeyRecord, call: CallOpts): Promise<KeyRecord> {
    if (key.hsm) {
      await this.hsm.destroyKey(inTenant(key.tenant, key.hsm), call).catch((err: unknown) => {
        if (!isKmsError(err, "NotFoundException")) throw err;
      });
    }
    for (;;) {
      const next: KeyRecord = { ...key, state: "Destroyed", revision: key.revision + 1 };
      if (await this.store.shred(next)) return this.remember(next);
      const fresh = await this.fresh(key.tenant, key.keyId);
      if (fresh.state === "Destroyed") return fresh;
      key = fresh;
    }
  }

  /** Rotates a key whose version used up its encryption budget, unless another instance already did. */
  rotateFromBudget(key: KeyRecord, call: CallOpts): Promise<KeyRecord> {
    return this.rotateDue(key, call);
  }

  /**
   * A new primary version. With `onlyFrom` (automatic rotations: on use, by the sweeper, by the
   * encryption budget), only if the key is still at that version, so racing rotations add one.
   */
  private async addVersion(tenant: string, keyId: string, call: CallOpts, rotationType: RotationType, onlyFrom?: number): Promise<KeyRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const key = await this.fresh(tenant, keyId);
      if (onlyFrom !== undefined && key.primaryVersion !== onlyFrom) return key;
      if (key.state !== "Enabled" && key.state !== "Disabled") throw invalidState(key);
      if (key.spec !== "SYMMETRIC_DEFAULT" || key.origin !== "TETHER") throw new KmsError("UnsupportedOperationException", `key ${keyId} cannot rotate: only symmetric keys with Tether-made material do`);
      const version = key.primaryVersion + 1;
      const wrappingKey = wrappingKeyOf(tenant, key.wrappingKeyId);
      const { wrapped } = await this.hsm.generateDataKey(32, wrapBinding(tenant, keyId, version), { ...call, returnPlaintext: false, wrappingKey });
      const at = new Date(this.now());
      const next: KeyRecord = {
        ...key,
        primaryVersion: version,
        revision: key.revision + 1,
        ...(key.rotationPeriodDays ? { nextRotationAt: new Date(at.getTime() + key.rotationPeriodDays * DAY_MS).toISOString() } : {}),
      };
      if (await this.store.addVersion(next, { version, createdAt: at.toISOString(), rotationType, wrapped: wrappedToWire(wrapped) })) return this.remember(next);
    }
    throw new KmsError("ThrottlingException", `too many concurrent changes to key ${keyId}; retry`);
  }

  /** Applies `change` to the current record with a conditional write, retrying if another writer won. */
  private async transition(principal: Principal, keyId: string, action: KeyAction, facts: Pick<KeyAccess, "requestTags" | "tagKeys">, change: (k: KeyRecord) => KeyRecord): Promise<KeyRecord> {
    await this.authorized(principal, keyId, action, facts);
    for (let attempt = 0; attempt < 10; attempt++) {
      const key = await this.fresh(principal.tenant, keyId);
      const next = { ...change(key), revision: key.revision + 1 };
      if (await this.store.update(next)) return this.remember(next);
    }
    throw new KmsError("ThrottlingException", `too many concurrent changes to key ${keyId}; retry`);
  }

  /** The key, read fresh, once its policy (and grants) allow the action: a key that does not exist is NotFound before anything else. */
  async authorized(principal: Principal, keyId: string, action: KeyAction, facts: Pick<KeyAccess, "requestTags" | "tagKeys" | "encryptionContext"> = {}): Promise<KeyRecord> {
    return (await this.access(principal, keyId, action, facts)).key;
  }

  /** As `authorized`, with the decision (a policy statement or a grant). */
  async access(principal: Principal, keyId: string, action: KeyAction, facts: Pick<KeyAccess, "requestTags" | "tagKeys" | "encryptionContext"> = {}): Promise<{ key: KeyRecord; decision: Decision }> {
    const key = await this.fresh(principal.tenant, keyId);
    principal.keysUsed?.add(key.keyId);
    return { key, decision: await this.authorizer.authorizeKey({ principal, action, key, ...facts }) };
  }

  /** The key as stored, with no key-policy check: for callers already authorized at the tenant level (simulate). */
  lookup(tenant: string, keyId: string): Promise<KeyRecord> {
    return this.fresh(tenant, keyId);
  }

  /** Stores `policy` as the key's next policy version and puts it in force (conditional on the key's revision, retried). */
  async setPolicy(principal: Principal, keyId: string, policy: string): Promise<KeyRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const key = await this.fresh(principal.tenant, keyId);
      const version = (key.policyVersion ?? 0) + 1;
      const next: KeyRecord = { ...key, policyVersion: version, revision: key.revision + 1 };
      if (await this.store.putPolicy(next, { version, policy, createdAt: new Date(this.now()).toISOString(), createdBy: principal.principalId })) return this.remember(next);
    }
    throw new KmsError("ThrottlingException", `too many concurrent changes to key ${keyId}; retry`);
  }

  private async fresh(tenant: string, keyIdOrArn: string): Promise<KeyRecord> {
    const keyId = await this.resolve(tenant, keyIdOrArn);
    const key = await this.store.get(tenant, keyId);
    if (!key) throw notFound(keyIdOrArn);
    return this.remember(key);
  }

  /** A key id from a key id, key ARN, alias name or alias ARN of the caller's own tenant. */
  private async resolve(tenant: string, ref: string): Promise<string> {
    const aliasArn = /^arn:aws:kms:[a-z0-9-]+:(\d{12}):(alias\/.+)$/.exec(ref);
    const aliasName = aliasArn ? (aliasArn[1] === tenant ? aliasArn[2] : undefined) : ref.startsWith("alias/") ? ref : undefined;
    if (aliasArn && !aliasName) throw notFound(ref);
    if (!aliasName) return resolveKeyId(tenant, ref);
    if (!ALIAS_NAME.test(aliasName)) throw notFound(ref);
    const id = `${tenant}/${aliasName}`;
    const known = this.opts.metadataTtlMs > 0 ? this.aliases.get(id) : undefined;
    if (known) return known;
    const alias = await this.store.getAlias(tenant, aliasName);
    if (!alias) throw notFound(ref);
    this.aliases.set(id, alias.keyId);
    return alias.keyId;
  }

  private async cached(tenant: string, keyIdOrArn: string): Promise<KeyRecord> {
    const keyId = await this.resolve(tenant, keyIdOrArn);
    const hit = this.opts.metadataTtlMs > 0 ? this.metadata.get(`${tenant}/${keyId}`) : undefined;
    return hit ?? this.fresh(tenant, keyId);
  }

  private remember(key: KeyRecord): KeyRecord {
    this.metadata.set(`${key.tenant}/${key.keyId}`, key);
    return key;
  }
}

function checkAliasName(name: string): void {
  if (!ALIAS_NAME.test(name)) throw new KmsError("ValidationException", "an alias name is alias/ followed by letters, digits, / _ or -");
  if (name.startsWith("alias/aws/")) throw new KmsError("ValidationException", "alias/aws/ is reserved");
}

/** A one-way check value of imported material: it proves a re-import brings the same material without revealing it. */
const materialCheck = (material: Uint8Array): string => createHmac("sha256", material).update("tether/imported-material-check/v1").digest("base64");

/** A key id (a UUID, or `hsm::<slot>::<label>`) or a key ARN of the caller's own tenant; anything else does not exist for the caller. */
function resolveKeyId(tenant: string, keyIdOrArn: string): string {
  const arn = /^arn:aws:kms:[a-z0-9-]+:(\d{12}):key\/(.+)$/.exec(keyIdOrArn);
  const keyId = arn ? (arn[1] === tenant ? (arn[2] as string) : "") : keyIdOrArn;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(keyId) && !parseHsmKeyId(keyId)) throw notFound(keyIdOrArn);
  return keyId;
}
