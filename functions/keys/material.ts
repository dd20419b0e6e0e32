import { KmsError } from "../../shared/errors.js";
import { wrapBinding } from "../../shared/crypto/envelope.js";
import type { CallOpts, KeyWrapping } from "../../shared/hsm/port.js";
import type { KeyMaterialCache } from "./cache.js";
import type { KeyDirectory } from "./directory.js";
import type { EncryptionBudget } from "./encryption-budget.js";
import type { KeyRecord } from "./model.js";
import { wrappedFromWire } from "../../shared/protocol/codec.js";
import type { KeyVersion } from "./model.js";
import type { KeyStore } from "./store.js";
import { derivedKey, type Primitives } from "./primitives.js";
import { KEY_SPECS } from "./specs.js";

export type PrefetchedVersion = { id: string; read: Promise<KeyVersion | undefined> };
const versionId = (tenant: string, keyId: string, version: number) => `${tenant}/${keyId}/${version}`;

/**
 * A version's plaintext material: from the cache, or read from the store and unwrapped once
 * through the HSM (single-flight). The caller has already checked the key's state.
 */
export class KeyMaterial {
  constructor(
    private readonly store: KeyStore,
    private readonly hsm: KeyWrapping,
    private readonly cache: KeyMaterialCache,
    private readonly directory: Pick<KeyDirectory, "wrapperOf">,
    private readonly budget: EncryptionBudget,
  ) {}

  /**
   * Starts reading a version's wrapped record while the caller resolves and authorizes its key
   * (a ciphertext names both), so a cold key costs one DynamoDB round trip less. Nothing is
   * unwrapped or returned unless forVersion is then called with the authorized key; a version
   * already cached reads nothing.
   */
  prefetch(tenant: string, keyId: string, version: number): PrefetchedVersion | undefined {
    const id = versionId(tenant, keyId, version);
    if (this.cache.holds(id)) return undefined;
    const read = this.store.getVersion(tenant, keyId, version);
    read.catch(() => undefined); // an unused read must not surface as an unhandled rejection
    return { id, read };
  }

  /**
   * A KMS key wrapped by an HSM-resident key is usable only while that key is Enabled (its state
   * cached ≤ the metadata TTL): otherwise its cached material is dropped (and zeroed) at once, on
   * every instance, instead of serving until it ages out.
   */
  async forVersion(key: KeyRecord, version: number, call: CallOpts, prefetched?: PrefetchedVersion): Promise<Uint8Array> {
    if (key.hsm) throw new KmsError("UnsupportedOperationException", `key ${key.keyId} lives in the HSM: use it through /v1/hsm-keys/${key.keyId}`);
    const wrapper = await this.directory.wrapperOf(key).catch((err: unknown) => {
      this.forget(key);
      throw err;
    });
    if (wrapper && wrapper.state !== "Enabled") {
      this.forget(key);
      throw new KmsError("KMSInvalidStateException", `key ${key.keyId} is wrapped by ${wrapper.keyId}, which is ${wrapper.state}`);
    }
    const id = versionId(key.tenant, key.keyId, version);
    return this.cache.getOrLoad(id, String(key.wrapEpoch), async () => {
      const v = await (prefetched?.id === id ? prefetched.read : this.store.getVersion(key.tenant, key.keyId, version));
      if (!v?.wrapped) throw new KmsError("InvalidCiphertextException", "the ciphertext is invalid, was made with another key, or its encryption context does not match");
      return this.hsm.unwrap(wrappedFromWire(v.wrapped), wrapBinding(key.tenant, key.keyId, version), call);
    });
  }

  /**
   * Runs `use` with what the version's material does (its spec's primitives). A derived key's
   * per-context key is made for the call and zeroed after it; the material itself stays in the
   * cache, which zeroes it when it leaves.
   */
  async using<T>(key: KeyRecord, version: number, call: CallOpts, use: (p: Primitives) => T, o: { derivation?: Uint8Array | undefined; prefetched?: PrefetchedVersion | undefined } = {}): Promise<T> {
    if (!key.derived && o.derivation) throw new KmsError("ValidationException", `key ${key.keyId} is not derived: give no derivationContext`);
    if (key.derived && !o.derivation?.length) throw new KmsError("ValidationException", `key ${key.keyId} is derived: a derivationContext is required`);
    const material = await this.forVersion(key, version, call, o.prefetched);
    const { primitives } = KEY_SPECS[key.spec];
    if (!key.derived || !o.derivation) return use(primitives(material));
    const derived = derivedKey(material, o.derivation);
    try {
      return use(primitives(derived));
    } finally {
      derived.fill(0);
    }
  }

  /** As `using`, with the primary version, once the version's encryption budget allows one more encryption (AES-GCM's random-IV bound). */
  async sealing<T>(key: KeyRecord, call: CallOpts, use: (p: Primitives) => T, o: { derivation?: Uint8Array | undefined } = {}): Promise<T> {
    await this.budget.take(key, key.primaryVersion, call);
    return this.using(key, key.primaryVersion, call, use, o);
  }

  private forget(key: KeyRecord): void {
    for (let v = 1; v <= key.primaryVersion; v++) this.cache.delete(versionId(key.tenant, key.keyId, v));
  }
}
