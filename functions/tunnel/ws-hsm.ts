import { newSealKeyPair, open, seal, sealContext } from "../../shared/crypto/seal.js";
import type { CallOpts, EncryptionAlg, HsmHealth, HsmKeyInfo, HsmKeyRef, HsmKeySpec, HsmPort, MessageType, SigningAlg, WrappedKey } from "../../shared/hsm/port.js";
import { fromB64, toB64, wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";
import type { ConnectorHub } from "./connections.js";

/**
 * HsmPort through the connector link: each call becomes one request frame. Material going to
 * the connector is sealed to its key; material coming back is sealed to a key pair made for
 * this one request, so no relay on the way sees it.
 */
export class WsHsm implements HsmPort {
  constructor(private readonly hub: ConnectorHub) {}

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("random", { length }, o)).bytes);
  }

  health(o: CallOpts): Promise<HsmHealth> {
    return this.hub.call("health", {}, o);
  }

  async generateDataKey(length: number, binding: Uint8Array, o: CallOpts & { returnPlaintext: boolean }) {
    const mine = o.returnPlaintext ? newSealKeyPair() : undefined;
    const out = await this.hub.call("generateDataKey", { length, binding: toB64(binding), ...(mine ? { sealTo: toB64(mine.publicKey) } : {}) }, o);
    const wrapped = wrappedFromWire(out.wrapped);
    return mine && out.sealed ? { wrapped, plaintext: open(mine, fromB64(out.sealed), sealContext(o.requestId, "generateDataKey")) } : { wrapped };
  }

  async wrap(material: Uint8Array, binding: Uint8Array, o: CallOpts): Promise<WrappedKey> {
    const out = await this.hub.call(
      "wrap",
      (peer) => ({ sealed: toB64(seal(peer.sealingKey, material, sealContext(o.requestId, "wrap"))), binding: toB64(binding) }),
      o,
    );
    return wrappedFromWire(out.wrapped);
  }

  async unwrap(wrapped: WrappedKey, binding: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const mine = newSealKeyPair();
    const out = await this.hub.call("unwrap", { wrapped: wrappedToWire(wrapped), binding: toB64(binding), sealTo: toB64(mine.publicKey) }, o);
    return open(mine, fromB64(out.sealed), sealContext(o.requestId, "unwrap"));
  }

  createKey(ref: HsmKeyRef, spec: HsmKeySpec, opts: { sensitive: boolean }, o: CallOpts): Promise<HsmKeyInfo> {
    return this.hub.call("createKey", { ...ref, spec, sensitive: opts.sensitive }, o);
  }

  async destroyKey(ref: HsmKeyRef, o: CallOpts): Promise<void> {
    await this.hub.call("destroyKey", { ...ref }, o);
  }

  async listKeys(slot: string, o: CallOpts): Promise<HsmKeyInfo[]> {
    return (await this.hub.call("listKeys", { slot }, o)).keys;
  }

  async getPublicKey(ref: HsmKeyRef, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("getPublicKey", { ...ref }, o)).spki);
  }

  async encrypt(ref: HsmKeyRef, alg: EncryptionAlg, plaintext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const out = await this.hub.call(
      "encrypt",
      (peer) => ({ ...ref, alg, sealed: toB64(seal(peer.sealingKey, plaintext, sealContext(o.requestId, "encrypt"))), aad: toB64(aad) }),
      o,
    );
    return fromB64(out.ciphertext);
  }

  async decrypt(ref: HsmKeyRef, alg: EncryptionAlg, ciphertext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const mine = newSealKeyPair();
    const out = await this.hub.call("decrypt", { ...ref, alg, ciphertext: toB64(ciphertext), aad: toB64(aad), sealTo: toB64(mine.publicKey) }, o);
    return open(mine, fromB64(out.sealed), sealContext(o.requestId, "decrypt"));
  }

  async sign(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("sign", { ...ref, alg, message: toB64(message), messageType: type }, o)).signature);
  }

  async verify(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, o: CallOpts): Promise<boolean> {
    return (await this.hub.call("verify", { ...ref, alg, message: toB64(message), messageType: type, signature: toB64(signature) }, o)).valid;
  }

  connectors() {
    return this.hub.ready();
  }
}
