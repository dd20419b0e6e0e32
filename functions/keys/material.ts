import { KmsError } from "../../shared/errors.js";
import { wrapBinding } from "../../shared/crypto/envelope.js";
import type { CallOpts, HsmPort } from "../../shared/hsm/port.js";
import type { KeyMaterialCache } from "./cache.js";
import type { KeyRecord } from "./model.js";
import { wrappedFromWire } from "../../shared/protocol/codec.js";
import type { KeyVersion } from "./model.js";
import type { KeyStore } from "./store.js";

export type PrefetchedVersion = { id: string; read: Promise<KeyVersion | undefined> };
const versionId = (tenant: string, keyId: string, version: number) => `${tenant}/${keyId}/${version}`;

/**
 * A version's plaintext material: from the cache, or read from the store and unwrapped once
 * through the HSM (single-flight). The caller has already checked the key's state.
 */
export class KeyMaterial {
  constructor(
    private readonly store: KeyStore,
    private readonly hsm: HsmPort,
    private readonly cache: KeyMaterialCache,
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

  forVersion(key: KeyRecord, version: number, call: CallOpts, prefetched?: PrefetchedVersion): Promise<Uint8Array> {
    const id = versionId(key.tenant, key.keyId, version);
    return this.cache.getOrLoad(id, String(key.wrapEpoch), async () => {
      const v = await (prefetched?.id === id ? prefetched.read : this.store.getVersion(key.tenant, key.keyId, version));
      if (!v?.wrapped) throw new KmsError("InvalidCiphertextException", "the ciphertext is invalid, was made with another key, or its encryption context does not match");
      return this.hsm.unwrap(wrappedFromWire(v.wrapped), wrapBinding(key.tenant, key.keyId, version), call);
    });
  }
}
