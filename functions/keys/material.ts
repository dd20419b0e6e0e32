import { KmsError } from "../../shared/errors.js";
import { wrapBinding } from "../../shared/crypto/envelope.js";
import type { CallOpts, HsmPort } from "../../shared/hsm/port.js";
import type { KeyMaterialCache } from "./cache.js";
import type { KeyRecord } from "./model.js";
import { wrappedFromWire } from "../../shared/protocol/codec.js";
import type { KeyStore } from "./store.js";

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

  forVersion(key: KeyRecord, version: number, call: CallOpts): Promise<Uint8Array> {
    return this.cache.getOrLoad(`${key.tenant}/${key.keyId}/${version}`, String(key.wrapEpoch), async () => {
      const v = await this.store.getVersion(key.tenant, key.keyId, version);
      if (!v?.wrapped) throw new KmsError("InvalidCiphertextException", "the ciphertext is invalid, was made with another key, or its encryption context does not match");
      return this.hsm.unwrap(wrappedFromWire(v.wrapped), wrapBinding(key.tenant, key.keyId, version), call);
    });
  }
}
